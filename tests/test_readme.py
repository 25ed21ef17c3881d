"""The Python examples of the README and of the documentation's guide run as
written (in one namespace, in a temporary directory, as a reader would paste
them), and the README's Quick start has exactly the two commands of the
developers' guide."""

from __future__ import annotations

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as _fh:
    README = _fh.read()
with open(os.path.join(ROOT, "docs", "guide.md"), encoding="utf-8") as _fh:
    GUIDE = _fh.read()


def test_quick_start_has_two_commands():
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", README, re.S).group(1)
    cmds = [ln for ln in block.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(cmds) == 2
    assert "freeprob reproduce" in cmds[0] and "python -m pytest" in cmds[1] and '".[test]"' in cmds[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["README.md", "docs/guide.md"])
def test_python_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    text = README if name == "README.md" else GUIDE
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= (1 if name == "README.md" else 5)
    ns: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"{name} python block {i}", "exec"), ns)  # noqa: S102 - the project's own examples
    if name == "docs/guide.md":
        assert os.path.exists(os.path.join(tmp_path, "out", "F13_structured_LRF_OV.png"))


def test_gallery_images_exist():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert len(images) >= 6
    missing = [p for p in images if not os.path.exists(os.path.join(ROOT, p))]
    assert not missing, missing
