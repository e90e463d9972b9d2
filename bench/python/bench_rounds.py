"""Rounds of a measuring script, as go run ./bench asks for them.

A script that measures scenarios beside twine names a function that makes
one round of a scenario and returns its figures, a list of
(name, value, unit) such as ("chain10", 9010.0, "ns/op"), and hands it to
one of the two functions below. The function warms a scenario up, untimed,
before the first round of it, and makes every round of a scenario measure
the same work (the same loop count, found once), so that the rounds can be
compared with each other and with twine's.

serve(make_round)
    The script runs as a server of rounds (its --serve flag): it reads the
    name of a round from standard input, one a line, makes the round, and
    writes its figures, "name value unit" a line, then a line "end"; or a
    line "error <message>" if the round failed. It returns when standard
    input ends. The bench command asks for one round at a time, between
    twine's rounds and plain Go's, so that a change in the machine's load
    hits every side alike.

report(make_round, names, repeat)
    Run by hand: makes repeat rounds of each named scenario, one after the
    other, and prints the median of each figure, "name value unit".

The bench command writes this file beside the scripts and puts its
directory on PYTHONPATH.
"""

import statistics
import sys


def serve(make_round, stdin=None, stdout=None):
    """Answer the rounds named on stdin until it ends (see the module doc)."""
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    for line in stdin:
        name = line.strip()
        if not name:
            continue
        try:
            figures = make_round(name)
        except Exception as e:  # the command reports it and goes on without this side
            stdout.write("error %s\n" % " ".join(repr(e).split()))
        else:
            for figure, value, unit in figures:
                stdout.write("%s %r %s\n" % (figure, float(value), unit))
            stdout.write("end\n")
        stdout.flush()


def report(make_round, names, repeat, stdout=None):
    """Print the median of each figure of repeat rounds of each name."""
    stdout = sys.stdout if stdout is None else stdout
    for name in names:
        rounds = [make_round(name) for _ in range(max(1, repeat))]
        for i, (figure, _, unit) in enumerate(rounds[0]):
            stdout.write("%s %.2f %s\n" % (figure, statistics.median(r[i][1] for r in rounds), unit))
        stdout.flush()
