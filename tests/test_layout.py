"""The house's layers: scripts import the ground-floor modules, never each other."""

import ast

from conftest import ROOT

SCRIPTS = {"main", "generator", "evaluate", "classifier"}
GROUND = {"model", "parts", "training", "vaeio", "clitools", "plotting", "samples", "judge"}


def imported_modules(path):
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_script_imports_another_script():
    scripts = [ROOT / f"{s}.py" for s in SCRIPTS] + sorted((ROOT / "report").glob("*.py")) + sorted(
        (ROOT / "benchmarks").glob("*.py")) + sorted((ROOT / "pretrained").glob("*.py"))
    for path in scripts:
        assert not imported_modules(path) & SCRIPTS, path.name


def test_ground_floor_imports_no_script():
    for name in GROUND:
        assert not imported_modules(ROOT / f"{name}.py") & SCRIPTS, name


def test_model_py_is_the_reports_model_alone():
    assert not imported_modules(ROOT / "model.py") & (GROUND - {"model"})
    text = (ROOT / "model.py").read_text()
    assert text.index("class VAEConfig") < text.index("class LSTMEncoder") < text.index("class ReportDecoder") \
        < text.index("class VAE(") < text.index("def training_loss")


def test_readme_stays_short():
    assert len((ROOT / "README.md").read_bytes()) <= 10_000  # a page for users; notes go to benchmarks/, report/
