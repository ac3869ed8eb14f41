"""The shape of the house: lines per module, exported-cell sizes and methods attached by hand, for before/after tables.

    python benchmarks/house.py [--root DIR] [--json benchmarks/results/house.json]

`--root` may be any checkout (e.g. a `git worktree` of an older commit) to measure it the same way. A method
"attached by hand" is a module-level assignment `Cls.name = ...` (or a lambda assigned in a class body), the style
`@patch` replaces. Exported cells are the `#| export` cells of `nbs/*.ipynb`, counted in non-blank lines.
"""
import argparse, ast, json, re, statistics
from pathlib import Path

def module_lines(root:Path) -> dict:
    return {str(p.relative_to(root)): len(p.read_text().splitlines())
            for p in sorted((root/'nas_rl').rglob('*.py')) if p.name != '_modidx.py'}

def exported_cells(root:Path) -> list:
    out = []
    for nb in sorted((root/'nbs').glob('*.ipynb')):
        for c in json.loads(nb.read_text())['cells']:
            src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
            if c['cell_type'] == 'code' and re.match(r'\s*#\s*\|\s*export', src):
                out.append(len([l for l in src.splitlines() if l.strip() and not l.strip().startswith('#|')]))
    return out

def hand_attached(root:Path) -> list:
    "`module:Cls.name` of every method attached by assignment."
    found = []
    for p in sorted((root/'nas_rl').rglob('*.py')):
        if p.name == '_modidx.py': continue
        for n in ast.parse(p.read_text()).body:
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    for e in (t.elts if isinstance(t, ast.Tuple) else [t]):
                        if isinstance(e, ast.Attribute) and isinstance(e.value, ast.Name) and e.value.id[:1].isupper():
                            found.append(f"{p.relative_to(root)}:{e.value.id}.{e.attr}")
            if isinstance(n, ast.ClassDef):
                found += [f"{p.relative_to(root)}:{n.name} (lambda)" for b in n.body if isinstance(b, ast.Assign) and isinstance(b.value, ast.Lambda)]
    return found

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--root', default='.'); ap.add_argument('--json', default=None)
    a = ap.parse_args(); root = Path(a.root)
    mods,cells,att = module_lines(root),exported_cells(root),hand_attached(root)
    for m,n in mods.items(): print(f"{n:>6}  {m}")
    print(f"{sum(mods.values()):>6}  total lines in {len(mods)} modules")
    print(f"exported cells {len(cells)}, median {statistics.median(cells)} lines; methods attached by hand: {len(att)}")
    if a.json:
        Path(a.json).write_text(json.dumps({'modules': mods, 'total_lines': sum(mods.values()), 'exported_cells': len(cells),
            'exported_cell_median': statistics.median(cells), 'hand_attached': att}, indent=1) + '\n')
