#!/usr/bin/env python3
"""Randomised differential test of the incremental path (differential/model_diff.cpp).

    differential.py --csrt RT --config CONFIG --cxx CLANGXX --work DIR [--cache DIR]
                    [--seeds N] [--first-seed S] [--rounds N] [--opts -O2]

For each seed: random CHECKSYNC_COMPACT_AFTER (1-4), CHECKSYNC_FULL_EVERY
(0 or 5), 0, 2 or 5 ms per round for the background compactor (so it
compacts at different rounds), 1-3 random kill rounds. The program runs with
--kill-at k1 (SIGKILL after round k1 is durable, with round k1+1 applied and
not checkpointed), is resumed in a fresh process with --kill-at k2, ..., and
finally runs to the last round; a last resume of the directory must give the
final state. Every resumed process rebuilds the model by replaying the seeded
operations up to the resumed round and compares the restored heap with it
(`error: ...` names the object, field and values); every round's digest must be
the uninterrupted run's. CI runs a few seeds (seconds); DIFF_SEEDS / --seeds
and DIFF_ROUNDS / --rounds run it longer. Failing seeds are printed with the
commands that reproduce them.
"""
import argparse
import os
import random
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402
from matrix import Combo, Failure, Program  # noqa: E402


def one_seed(c, csrt, prog, rng):
    """Returns a description and how many resumes started from a compacted base."""
    d = os.path.join(c.work, "ckpt.d")
    env = {"CHECKSYNC_COMPACT_AFTER": str(rng.choice([1, 2, 3, 4])),
           "CHECKSYNC_FULL_EVERY": str(rng.choice([0, 0, 5]))}
    # A few ms per round (random per seed) let the background compactor run,
    # so compactions land at different rounds from seed to seed.
    sleep = ("--sleep-ms", rng.choice([0, 2, 5]))
    kills = sorted(rng.sample(range(2, prog.total), rng.randint(1, 3)))
    p = c.run(prog.argv("--kill-at", kills[0], *sleep), dict(env, CHECKSYNC_DIR=d), "run")
    matrix.killed(prog, p)
    prev = kills[0]
    bases = []  # the base epoch each resume starts from (> 1: a compacted or forced full)
    for i, k in enumerate(kills[1:] + [None]):
        extra = ("--kill-at", k) if k else ()
        bases.append(max(matrix.ckpt_epochs(d), default=0))
        q = c.run(matrix.resume_argv(csrt, d, prog, *extra, *sleep), env, "resume-%d" % (i + 1))
        matrix.expect_resumed(prog, q, prev, exactly=prev)
        if k:
            matrix.killed(prog, q)
            prev = k
        else:
            matrix.finished(prog, q)
    matrix.final_resume(c, csrt, prog, d, env)
    compacted = sum(1 for b in bases if b > 1)
    return "compact_after=%s full_every=%s sleep %s ms, kills at %s, resumed from bases %s" % (
        env["CHECKSYNC_COMPACT_AFTER"], env["CHECKSYNC_FULL_EVERY"], sleep[1], kills,
        bases), compacted


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csrt", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--cxx", default="clang++-19")
    ap.add_argument("--work", required=True)
    ap.add_argument("--cache")
    ap.add_argument("--seeds", type=int, default=int(os.environ.get("DIFF_SEEDS", "8")))
    ap.add_argument("--first-seed", type=int, default=int(os.environ.get("DIFF_FIRST_SEED", "1")))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("DIFF_ROUNDS", "16")))
    ap.add_argument("--opts", default="-O2")
    args = ap.parse_args()
    args.cache = args.cache or os.path.join(args.work, "bin")
    src = os.path.join(matrix.HERE, "differential", "model_diff.cpp")
    opts = args.opts.split(",")
    t0 = time.monotonic()
    binaries = matrix.compile_programs(args, [src], opts)
    failed = []
    n = 0
    from_compacted = 0  # resumes that started from a base newer than epoch 1
    for opt in opts:
        b = binaries[(src, opt)]
        if isinstance(b, Failure):
            sys.exit(str(b))
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            n += 1
            name = "seed %d %s" % (seed, opt)
            c = Combo(os.path.join(args.work, "seed-%d%s" % (seed, opt)), name)
            rng = random.Random(seed)
            try:
                prog = Program(src, b, seed, args.rounds, None)
                prog.ref = matrix.reference(c, prog)
                how, compacted = one_seed(c, args.csrt, prog, rng)
                from_compacted += compacted
                print("PASS %s: %s" % (name, how), flush=True)
            except Failure as e:
                failed.append(seed)
                print("FAIL %s" % name)
                print("  " + str(e).replace("\n", "\n  "))
                print("  reproduce: python3 %s --csrt %s --config %s --cxx %s --work /tmp/diff "
                      "--first-seed %d --seeds 1 --rounds %d --opts=%s" %
                      (os.path.abspath(__file__), args.csrt, args.config, args.cxx, seed,
                       args.rounds, opt))
                for cmd in c.commands:
                    print("    " + cmd)
                sys.stdout.flush()
            finally:
                matrix.cleanup()
    print("differential: %d seeds x %d rounds, %d passed, %d failed%s; %d resumes from a "
          "compacted or forced full base; %.1fs" % (
              n, args.rounds, n - len(failed), len(failed),
              " (seeds %s)" % " ".join(map(str, failed)) if failed else "", from_compacted,
              time.monotonic() - t0))
    if n >= 4 and not failed and not from_compacted:
        print("differential: FAIL: no resume started from a compacted base (the compactor "
              "never ran before a kill)")
        sys.exit(1)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
