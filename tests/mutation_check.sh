#!/usr/bin/env bash
# Break the code on purpose, one slip at a time, in a scratch copy of this checkout, and show
# that the suite's guards fail on each slip (issue 32). Nothing here changes the checkout.
#
#   bash tests/mutation_check.sh        # from the repository root; about 2 minutes on 2 CPU cores
#
# For each slip it prints 'caught' and the tests that failed on it (the guards hold), or
# 'ESCAPED' where the tests it ran all passed. It exits non-zero if any slip got through.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
escaped=0

# mutate NAME FILE OLD NEW PYTEST-ARGS...: FILE with its one OLD text replaced by NEW, then the tests
mutate() {
    local name=$1 file=$2 old=$3 new=$4
    shift 4
    rm -rf "$scratch/copy"
    mkdir -p "$scratch/copy"
    git ls-files -z | xargs -0 cp --parents -t "$scratch/copy"
    # ../shared beside the copy, as beside the checkout, so the tests find MNIST where CI does
    [ -e "$root/../shared" ] && ln -sfn "$root/../shared" "$scratch/shared"
    python - "$scratch/copy/$file" "$old" "$new" <<'PY' || { echo "$name: the text to break is not in $file"; exit 2; }
import sys, pathlib
path, old, new = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
text = path.read_text()
assert text.count(old) == 1, f"{old!r} found {text.count(old)} times"
path.write_text(text.replace(old, new))
PY
    if (cd "$scratch/copy" && python -m pytest -q -p no:cacheprovider "$@" >"$scratch/log" 2>&1); then
        echo "ESCAPED  $name: $* passed on the broken code"
        escaped=1
    else
        echo "caught   $name: $(tail -1 "$scratch/log")"
        grep -E '^(FAILED|ERROR)' "$scratch/log" | cut -d' ' -f2 | sed 's/^/           /'
    fi
}

mutate "mask with its diagonal, tril(0)" vae/parts.py 'torch.ones(s, s).tril(-1)' 'torch.ones(s, s).tril(0)' \
    tests/test_lstm_decoder.py
mutate "mask with its upper triangle, ones" vae/parts.py 'torch.ones(s, s).tril(-1)' 'torch.ones(s, s)' \
    tests/test_lstm_decoder.py
mutate "std = exp(logvar)" model.py 'std = torch.exp(0.5 * logvar)' 'std = torch.exp(logvar)' \
    tests/test_model.py tests/test_estimator.py
mutate "a failed write leaves its .tmp" vae/files.py \
    $'    except OSError as e:\n        Path(tmp).unlink(missing_ok=True)' $'    except OSError as e:\n        pass' \
    tests/test_errors.py -k "failed_write or full_disk"
mutate "a failed write raises OSError, not one line" vae/files.py \
    'raise UserError(f"could not write {path}: {e.strerror or e}") from None' 'raise' \
    tests/test_errors.py -k "failed_write or full_disk"
mutate "model.pk written in place" vae/files.py \
    'atomic_write(path, lambda f: pickle.dump(results, f, protocol=5))' \
    'path.open("wb").write(pickle.dumps(results, protocol=5))' tests/test_errors.py -k "full_disk or atomic_write"
mutate "Ctrl-C is a traceback" main.py '    except KeyboardInterrupt:' '    except ZeroDivisionError:' \
    tests/test_errors.py -k ctrl_c
exit $escaped
