"""The README's Python example runs as written and saves the bytes the CLI writes; the module
installs with `cmake --install` where Debian's python3 imports it."""
import os
import pathlib
import subprocess
import sys

import pytest

from conftest import BUILD_DIR, MODELGEN, SOURCE_DIR


def readme_example():
    text = (SOURCE_DIR / "README.md").read_text()
    section = text[text.index("## Python: `import tffreeze`"):]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_readme_example_runs(cli, tmp_path):
    subprocess.run([MODELGEN, "mobilenet_v1", "--out", str(tmp_path / "mobilenet_v1"), "--image-size", "160", "--classes", "100"],
                   check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "classes: [" in result.stdout and "exit 3 " in result.stdout, result.stdout
    m = tmp_path / "mobilenet_v1"
    cli("freeze", m / "model.ckpt.meta", "-c", m / "model.ckpt", "--outputs", "MobilenetV1/Predictions/Softmax",
        "--replace-input", "input_batch=float32[-1,160,160,3]", "--set", "is_training=false", "--use-moving-averages",
        "--optimize", "--target", "opencv", "-o", tmp_path / "cli.pb", check=True)
    assert (tmp_path / "mobilenet_v1.pb").read_bytes() == (tmp_path / "cli.pb").read_bytes()


def test_cmake_install_puts_the_module_on_pythons_path(tmp_path):
    if not (BUILD_DIR / "CMakeCache.txt").exists():
        pytest.skip(f"no build folder at {BUILD_DIR} (set TFFREEZE_BUILD_DIR)")
    subprocess.run(["cmake", "--install", str(BUILD_DIR), "--prefix", str(tmp_path)], check=True, capture_output=True)
    site = tmp_path / "lib" / "python3" / "dist-packages"
    assert (site / "tffreeze.pyi").exists() and (tmp_path / "bin" / "tffreeze").exists()
    env = dict(os.environ, PYTHONPATH=str(site))
    result = subprocess.run([sys.executable, "-c", "import tffreeze; print(tffreeze.__file__)"], env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith(str(site)), result.stderr
