"""Prepare what `benchmarks/gpu_checks.sh` needs on a GPU machine that has no network, on a machine that has one.

The GPU machines lent here run Python 3.12 with torch, numpy, pandas, matplotlib, scikit-learn, cloudpickle and
many more already installed (the device tool's KINDS.md lists them), but not fastai, nbdev or their own needs.
This script walks the requirements of nas_rl's runtime and test packages as installed in *this* environment
(`importlib.metadata`, so the versions are the ones CI tests), drops those the GPU image already has, and downloads
Python 3.12 manylinux wheels of the rest (`pip download --no-deps`, exact versions) into `.gpu/whl/`; it copies the
Penn Treebank text files into `.gpu/ptb/`. `.gpu/` is ignored by git; pass it to the device with `carry: [".gpu"]`.

    python benchmarks/gpu_prep.py            # then: bash benchmarks/gpu_checks.sh OUT (on the GPU machine)
"""
import argparse, re, shutil, subprocess, sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ['fastai', 'fastcore', 'nbdev', 'execnb'] # what nas_rl and its notebook tests import beyond the GPU image
ON_DEVICE = set("""absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch build certifi
charset-normalizer chex click cloudpickle cmake colorama contourpy coverage cycler cython einops filelock flatbuffers fonttools
frozenlist fsspec grpcio h11 h5py httpcore httpx huggingface-hub idna imageio iniconfig jinja2 joblib kiwisolver lxml markdown
markdown-it-py markupsafe matplotlib mdurl ml-dtypes mpmath msgpack multidict networkx ninja numpy packaging pandas pathspec
pillow pip pluggy prometheus-client propcache protobuf psutil pyarrow pygments pyparsing pyproject-hooks pytest python-dateutil
pyyaml regex requests rich safetensors scikit-learn scipy setuptools six sortedcontainers sympy tabulate threadpoolctl tqdm
torch torchvision triton typer typing-extensions urllib3 wheel wrapt xxhash yarl zipp tzdata""".split()) # the image's list
SKIP = {'spacy'} # fastai asks for it, for text tokenisation only; nas_rl never imports it

def norm(n:str) -> str: return re.sub(r'[-_.]+', '-', n).lower()

def closure(roots) -> dict:
    "{name: version} of `roots` and everything they require (extras and markers that do not apply skipped), as installed here."
    seen, todo = {}, list(roots)
    while todo:
        n = norm(todo.pop())
        if n in seen or n in SKIP or n in ON_DEVICE: continue # the image has it, and what it needs
        try: d = metadata.distribution(n)
        except metadata.PackageNotFoundError: continue
        seen[n] = d.version
        for r in d.requires or []:
            if 'extra ==' in r: continue
            m = re.match(r'\s*([A-Za-z0-9_.\-]+)', r)
            if m: todo.append(m[1])
    return seen

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default=str(ROOT/'.gpu'))
    p.add_argument('--ptb', default=str(ROOT.parent/'shared'/'data'/'ptb'))
    a = p.parse_args(argv)
    out = Path(a.out); whl = out/'whl'
    shutil.rmtree(whl, ignore_errors=True); whl.mkdir(parents=True)
    need = closure(ROOTS)
    print(f"{len(need)} packages to carry: {' '.join(f'{n}=={v}' for n, v in sorted(need.items()))}")
    plat = [x for n in ('manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64', 'manylinux1_x86_64')
            for x in ('--platform', n)]
    for n, v in sorted(need.items()):
        r = subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:', '--python-version', '3.12',
                            '--implementation', 'cp', *plat, '-d', str(whl), f'{n}=={v}'], capture_output=True, text=True)
        if r.returncode: sys.exit(f"could not download {n}=={v}: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else r.returncode}")
    ptb = out/'ptb'; ptb.mkdir(exist_ok=True)
    for f in Path(a.ptb).glob('ptb.*.txt'): shutil.copy(f, ptb/f.name)
    size = sum(f.stat().st_size for f in out.rglob('*') if f.is_file())
    print(f"{out}: {len(list(whl.glob('*.whl')))} wheels and {len(list(ptb.glob('*.txt')))} PTB files, {size/2**20:.1f} MiB (the device takes 64 MiB with the tree)")

if __name__ == '__main__': main()
