# A later device call on the same warm machine: wait for the jobs up to $1 seconds, pack again.
set -u
python gpu/waitpack.py /tmp/w "$OUT" "$1" --wait-suite
tail -n 30 /tmp/w/logs/jobs.log; tail -n 15 /tmp/w/logs/suite.txt 2>/dev/null
