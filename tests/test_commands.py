"""Every main.py, evaluate.py and generator.py command written in README.md, report/*.md and
benchmarks/README.md still parses, and main.py's resolves to a run configuration: a flag
renamed or removed fails here, not in a user's terminal."""

import re
import shlex

import pytest

import evaluate
import generator
import main
from conftest import ROOT

DOCS = [ROOT / "README.md", ROOT / "benchmarks" / "README.md", *sorted((ROOT / "report").glob("*.md"))]
SCRIPTS = {"main.py": main, "evaluate.py": evaluate, "generator.py": generator}
PLACEHOLDER = re.compile(r"[\[\]{}<>…]|\.\.\.|modelM|\b(M|S|K|N|DIR|FILE|RUN_DIR|CKPT)\b")


def documented_commands():
    found = set()
    for doc in DOCS:
        text = doc.read_text().replace("\\\n", " ")  # shell line continuations
        # inline code may wrap across lines in prose; fenced blocks keep one command a line
        text = re.sub(r"(?<!`)`([^`]+)`(?!`)", lambda m: "`" + m.group(1).replace("\n", " ") + "`", text)
        for match in re.finditer(r"python (main|evaluate|generator)\.py([^`|\n]*)", text):
            rest = match.group(2).split("#")[0].strip().rstrip(".,;:)")
            if not PLACEHOLDER.search(rest):
                found.add((f"{match.group(1)}.py", rest))
    return sorted(found)


def test_the_docs_hold_commands_to_check():
    scripts = {script for script, _ in documented_commands()}
    assert scripts == set(SCRIPTS) and len(documented_commands()) >= 30


@pytest.mark.quick
@pytest.mark.parametrize("script, rest", documented_commands())
def test_a_documented_command_parses(script, rest):
    argv = shlex.split(rest)
    args = SCRIPTS[script].build_parser().parse_args(argv)
    if script == "main.py":
        args.device = "cpu"  # the command's device may be a GPU; the configuration is the same
        run = main.run_config(args, argv)
        assert run.train.command.startswith("python main.py")
