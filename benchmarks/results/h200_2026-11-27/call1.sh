# The first device call: start the jobs in their own session (they outlive this command) and pack at 555 s.
set -u
mkdir -p data /tmp/w
tar xzf gpu/mnist.tar.gz -C data
setsid nohup bash gpu/jobs.sh /tmp/w > /tmp/w/jobs.out 2>&1 < /dev/null &
python gpu/waitpack.py /tmp/w "$OUT" 555 --wait-suite
tail -n 40 /tmp/w/logs/jobs.log; cat /tmp/w/logs/env.txt; tail -n 5 /tmp/w/jobs.out
