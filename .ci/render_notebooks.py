#!/usr/bin/env python
"""Execute library notebooks top to bottom and save their outputs (the notebooks are the docs: no docs site is built).

    python .ci/render_notebooks.py [--slow] [nbs/NAME.ipynb ...]     # default: every nbs/*.ipynb (not nbs/tutorials/)

Cells flagged `slow`, `cuda` or `notest` are not run and keep the outputs they had (with `--slow`, `slow` cells run too:
a tutorial's real search, whose outputs are the tutorial). Run `nbdev_clean` afterwards
(it keeps outputs, since settings.ini has clear_all = False, and cleans metadata). Uses one torch thread.
"""
import os, sys, time
os.environ.setdefault('OMP_NUM_THREADS', '1')
from pathlib import Path
from fastcore.xtras import working_directory
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc

SKIP = {'slow', 'cuda', 'notest'}

def render(fn:Path, skip_flags=SKIP):
    "Run `fn`'s cells (but flagged ones) in a fresh shell and write the outputs back into the notebook file."
    proc = NBProcessor(fn, procs=FrontmatterProc, process=True)
    nb = proc.nb
    def skip(cell):
        if cell.cell_type != 'code' or 'nbdev_export'+'(' in cell.source: return True
        return bool(skip_flags & (getattr(cell, 'directives_', {}) or {}).keys())
    saved = {i: c.get('outputs', []) for i,c in enumerate(nb.cells) if c.cell_type == 'code' and skip(c)}
    sh = CaptureShell(fn)
    os.environ['IN_TEST'] = '1'
    with working_directory(fn.parent): sh.run_all(nb, exc_stop=True, preproc=skip)
    raw = read_nb(fn)
    for i,(c,r) in enumerate(zip(nb.cells, raw.cells)):
        if r.cell_type != 'code': continue
        r['outputs'] = saved[i] if i in saved else c.get('outputs', [])
        r['execution_count'] = None if i in saved else c.get('execution_count')
    write_nb(raw, fn)

if __name__ == '__main__':
    args = sys.argv[1:]
    flags = SKIP - {'slow'} if '--slow' in args else SKIP
    fns = [Path(f) for f in args if f != '--slow'] or sorted(Path('nbs').glob('*.ipynb'))
    for fn in fns:
        t0 = time.time(); render(fn, flags); print(f"{fn}: {time.time()-t0:.1f}s", flush=True)
