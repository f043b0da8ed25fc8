"""The house's layers: the scripts import the package `vae/` and model.py, never each other."""

import ast
import re

import pytest

from conftest import ROOT

SCRIPTS = {"main", "generator", "evaluate", "classifier"}
ROOT_FILES = {f"{s}.py" for s in SCRIPTS} | {"model.py"}


def imported_modules(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def folder_scripts():
    return [p for folder in ("report", "benchmarks", "pretrained") for p in sorted((ROOT / folder).glob("*.py"))
            if p.name != "__init__.py"]


def test_the_root_holds_model_py_and_the_scripts():
    assert {p.name for p in ROOT.glob("*.py")} == ROOT_FILES


def test_no_script_imports_another_script():
    for path in [ROOT / f"{s}.py" for s in SCRIPTS] + folder_scripts():
        assert not imported_modules(path) & (SCRIPTS | {"report", "benchmarks", "pretrained"}), path.name


def test_the_package_imports_no_script():
    for path in sorted((ROOT / "vae").glob("*.py")):
        assert not imported_modules(path) & SCRIPTS, path.name


def test_only_conftest_patches_sys_path():
    for path in [*ROOT.glob("*.py"), *(ROOT / "vae").glob("*.py"), *folder_scripts(), *(ROOT / "tests").glob("*.py")]:
        if path.name not in ("conftest.py", "test_layout.py"):  # this file names it
            assert "sys.path.insert" not in path.read_text(), path


def test_model_py_is_the_reports_model_alone():
    assert imported_modules(ROOT / "model.py") <= {"__future__", "dataclasses", "typing", "torch"}
    text = (ROOT / "model.py").read_text()
    assert text.index("class VAEConfig") < text.index("class LSTMEncoder") < text.index("class ReportDecoder") \
        < text.index("class VAE(") < text.index("def training_loss")
    for foreign in ("Gemm", "iwae", "active_units", "class_latent", "legacy", "LEGACY", "prepare_images"):
        assert foreign not in text, foreign


def test_readme_stays_short():
    assert len((ROOT / "README.md").read_bytes()) <= 10_000  # a page for users; notes go to benchmarks/, report/


def test_the_floors_of_requirements_txt_are_the_pins_of_requirements_min():
    def parse(name, op):
        lines = [l.split("#")[0].strip() for l in (ROOT / name).read_text().splitlines()]
        pairs = [l.split(op) for l in lines if l]
        return {p.strip().lower(): tuple(map(int, v.strip().split("."))) for p, v in pairs}

    def padded(v):
        return v + (0,) * (3 - len(v))

    floors, pins = parse("requirements.txt", ">="), parse("requirements-min.txt", "==")
    assert {k: padded(v) for k, v in floors.items()} == {k: padded(v) for k, v in pins.items()}


def test_readme_names_no_path_outside_the_repository_but_the_ci_example():
    for line in (ROOT / "README.md").read_text().splitlines():
        if "../" in line:
            assert "../shared/data" in line and "CI" in line, line


@pytest.mark.quick
def test_main_py_stays_as_short_as_the_original_and_no_function_grows_long():
    assert len((ROOT / "main.py").read_text().splitlines()) <= 200
    for path in [ROOT / "main.py", *sorted((ROOT / "vae").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                assert node.end_lineno - node.lineno < 60, f"{path.name}: {node.name}"


@pytest.mark.quick
def test_no_setting_is_looked_up_with_a_fallback():
    """A setting has one default, on its config field or option: none is restated at a call site."""
    for path in [ROOT / "main.py", ROOT / "evaluate.py", ROOT / "generator.py", *sorted((ROOT / "vae").glob("*.py"))]:
        assert not re.search(r"getattr\((\w+\.)*(cfg|model|args)\w*, \"\w+\", ", path.read_text()), path.name
