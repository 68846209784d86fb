#!/usr/bin/env python3
"""stress_train: SIGKILLs at random moments of real dllab trainings (`make stress-store`).

A small Fashion-MNIST training (3 epochs of 4 batches, 128 validation items so validation takes a
good share of each epoch) is killed again and again: during its batches, its validation, its
checkpoint writes (the process is killed as soon as a checkpoint's temporary file appears), the
LR finder, and a --resume. After each kill:
  - `dllab runs` opens and lists the run as crashed,
  - PRAGMA integrity_check of runs.db is ok,
  - every checkpoint the run lists loads (`dllab weights info` reads every tensor's bounds),
and every killed training is resumed (its --resume may be killed again) until it finishes; its
per-batch losses must then equal those of an uninterrupted run of the same options, exactly.
Prints the counts. Usage: stress_train.py DLLAB [--kills N] [--minutes M] [--seed S]
"""
import argparse
import glob
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

TRAIN = ["fashion-mnist", "--limit", "64", "--valid-limit", "128", "--bs", "16", "--epochs", "3",
         "--size", "16", "--threads", "1", "--seed", "42", "--no-tui"]
LRFIND = ["fashion-mnist", "--limit", "64", "--bs", "16", "--size", "16", "--threads", "1",
          "--num-it", "30", "--no-tui"]
CMD_TIMEOUT = 600  # a command that hangs this long is a failure, not a wait


class Stress:
    def __init__(self, dllab, work, rng):
        self.dllab = dllab
        self.work = work
        self.store = os.path.join(work, "runs")
        self.rng = rng
        self.env = dict(os.environ, XDG_CACHE_HOME=os.path.join(work, "cache"))
        self.failures = []
        self.counts = {}

    def count(self, key, n=1):
        self.counts[key] = self.counts.get(key, 0) + n

    def fail(self, msg):
        print("FAIL: " + msg, flush=True)
        self.failures.append(msg)

    def run(self, args, check=True):
        p = subprocess.run([self.dllab] + args, cwd=self.work, env=self.env, capture_output=True,
                           text=True, errors="replace", timeout=CMD_TIMEOUT)
        if check and p.returncode != 0:
            self.fail("dllab %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr.strip()[-400:]))
        return p

    def runs(self):
        if not os.path.exists(os.path.join(self.store, "runs.db")):
            return {}
        p = self.run(["runs", "--runs", self.store, "--json"])
        return {r["name"]: r for r in json.loads(p.stdout)} if p.returncode == 0 else {}

    def export(self, name):
        p = self.run(["export", "--runs", self.store, name, "--json", "-"])
        return json.loads(p.stdout)["runs"][0] if p.returncode == 0 else None

    def losses(self, name):
        r = self.export(name)
        return [(b["step"], b["loss"]) for b in r["batches"]] if r else None

    def integrity(self):
        db = sqlite3.connect("file:%s/runs.db?mode=ro" % self.store, uri=True, timeout=30)
        try:
            return db.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            db.close()

    def reference(self):
        """Two uninterrupted runs: their losses must agree (else resumes cannot be compared)."""
        refs = []
        for _ in range(2):
            before = set(self.runs())
            t0 = time.monotonic()
            self.run(["train"] + TRAIN + ["--runs", self.store])
            self.ref_seconds = time.monotonic() - t0
            (name,) = set(self.runs()) - before
            refs.append(self.losses(name))
        if refs[0] != refs[1] or not refs[0]:
            sys.exit("stress_train: two uninterrupted runs differ; training is not reproducible")
        self.ref = refs[0]
        # The batches' share of an epoch: epoch durations with a tiny validation set over the
        # reference's.
        timing = os.path.join(self.work, "timing")
        self.run(["train"] + TRAIN + ["--runs", timing, "--valid-limit", "16", "--name", "timing"])
        store, self.store = self.store, timing
        (tname,) = self.runs()
        short = self.export(tname)
        self.store = store
        full = self.export(name)
        mean = lambda r: sum(e["duration"] for e in r["epoch_rows"]) / len(r["epoch_rows"])
        self.epoch_seconds = mean(full)
        self.train_share = min(1.0, mean(short) / self.epoch_seconds)
        print("reference: %d batches, %.1f s per run, batches %.0f %% of it" %
              (len(self.ref), self.ref_seconds, 100 * self.train_share), flush=True)

    def run_rows(self):
        """Rows in the store's runs table (read-only; -1 while there is no store)."""
        try:
            db = sqlite3.connect("file:%s/runs.db?mode=ro" % self.store, uri=True, timeout=5)
            try:
                return db.execute("SELECT count(*) FROM runs").fetchone()[0]
            finally:
                db.close()
        except sqlite3.Error:
            return -1

    def tmp_files(self, name=None):
        pat = os.path.join(self.store, name or "*", "*.tmp.*")
        return glob.glob(pat)

    def kill_one(self, scenario, args, target=None):
        """Starts dllab ARGS, SIGKILLs it per scenario; returns (killed, run name, moment)."""
        before = set(self.runs())
        old_tmp = set(self.tmp_files())  # left by earlier kills: not this kill's
        out = open(os.path.join(self.work, "last.out"), "w")
        p = subprocess.Popen([self.dllab] + args, cwd=self.work, env=self.env, stdout=out,
                             stderr=subprocess.STDOUT)
        t0 = time.monotonic()
        moment = "random"
        if scenario == "checkpoint":
            # Kill as soon as the temporary file of the 1st, 2nd or 3rd checkpoint exists.
            skip = self.rng.randrange(3)
            seen_tmp = set(old_tmp)
            while p.poll() is None and time.monotonic() - t0 < CMD_TIMEOUT:
                new = set(self.tmp_files()) - seen_tmp
                if new and skip == 0:
                    time.sleep(self.rng.uniform(0, 0.004))
                    moment = "checkpoint"
                    break
                if new:
                    skip -= 1
                    seen_tmp |= new
                time.sleep(0.001)
        elif scenario == "train" and self.rng.random() < 0.75:
            # Most random kills wait for the run row, so that they land in its batches, its
            # validation or its checkpoints rather than in the start-up (data loading).
            n0 = self.run_rows()
            while p.poll() is None and self.run_rows() == n0 and time.monotonic() - t0 < CMD_TIMEOUT:
                time.sleep(0.01)
            left = max(0.5, self.ref_seconds - (time.monotonic() - t0))
            deadline = time.monotonic() + self.rng.uniform(0, left)
            while p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        else:
            span = self.ref_seconds * (0.5 if scenario == "lrfind" else 1.1)
            deadline = t0 + self.rng.uniform(0, span)
            while p.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
        killed = p.poll() is None
        if killed:
            p.send_signal(signal.SIGKILL)
        elif scenario == "train":
            # The machine's load changes: random moments follow the latest whole run.
            self.ref_seconds = time.monotonic() - t0
        killed_at = time.time()
        p.wait()
        out.close()
        new = set(self.runs()) - before
        name = target or (new.pop() if new else None)
        if killed and moment == "random" and name and set(self.tmp_files(name)) - old_tmp:
            moment = "checkpoint"
        return killed, name, moment, killed_at

    def phase(self, name, killed_at):
        """Phase of a kill: startup from the store (no row committed), else batches or validation
        estimated from the time between the run's creation and the kill, less its finished epochs
        (the batches' share of an epoch was measured by a run with a tiny validation set)."""
        r = self.export(name)
        if r is None or (not r["batches"] and not r["epoch_rows"]):
            return "startup (before the first commit)"
        rows = r["epoch_rows"]
        since = killed_at - r["created"] - sum(e["duration"] for e in rows)
        if since > self.train_share * self.epoch_seconds:
            return "validation (estimated)"
        return "batches (estimated)"

    def check_after_kill(self, name, scenario):
        runs = self.runs()  # opens the store: a kill must never leave it unreadable
        if name is None:
            self.count("killed before the run was created")
            return False
        if name not in runs:
            self.fail("%s: killed run missing from dllab runs" % name)
            return False
        st = runs[name]["status"]
        if st != "crashed":
            self.fail("%s (%s): status %s after SIGKILL, not crashed" % (name, scenario, st))
        ok = self.integrity()
        if ok != "ok":
            self.fail("integrity_check after killing %s: %s" % (name, ok))
        r = self.export(name)
        for c in (r or {}).get("checkpoints", []):
            path = c["path"] if os.path.isabs(c["path"]) else os.path.join(self.work, c["path"])
            w = self.run(["weights", "info", path], check=False)
            self.count("checkpoints loaded after a kill")
            if w.returncode != 0:
                self.fail("%s: checkpoint %s does not load: %s" % (name, c["path"], w.stderr.strip()))
        return bool(r and r.get("checkpoints"))

    def finish(self, name):
        """Resumes a killed run to its end and compares its losses with the reference."""
        p = self.run(["train", "--resume", name, "--runs", self.store, "--threads", "1", "--no-tui"],
                     check=False)
        if p.returncode != 0:
            self.fail("%s: --resume failed (%d): %s" % (name, p.returncode, p.stderr.strip()[-300:]))
            return
        got = self.losses(name)
        self.count("resumed to the end")
        if got == self.ref:
            self.count("resumed runs with the uninterrupted per-batch losses")
        else:
            diff = [(a, b) for a, b in zip(got or [], self.ref) if a != b][:3]
            self.fail("%s: per-batch losses after resume differ from the uninterrupted run "
                      "(%d vs %d batches; first differences %s)" % (name, len(got or []), len(self.ref), diff))

    def loop(self, kills, minutes):
        end = time.monotonic() + minutes * 60
        pending = []  # killed trainings with a checkpoint, waiting for a (possibly killed) resume
        no_ckpt = []  # killed before their first checkpoint: resume must say so, or start over
        k = 0
        while k < kills and time.monotonic() < end:
            x = self.rng.random()
            target = None
            if pending and x < 0.30:
                scenario, target = "resume", pending.pop(0)
                args = ["train", "--resume", target, "--runs", self.store, "--threads", "1", "--no-tui"]
            elif x < 0.40:
                scenario, args = "lrfind", ["lrfind"] + LRFIND + ["--runs", self.store]
            elif x < 0.55:
                scenario, args = "checkpoint", ["train"] + TRAIN + ["--runs", self.store]
            else:
                scenario, args = "train", ["train"] + TRAIN + ["--runs", self.store]
            killed, name, moment, killed_at = self.kill_one(scenario, args, target)
            if not killed:
                self.count("finished before the kill (%s)" % scenario)
                if scenario != "lrfind" and name:
                    got = self.losses(name)
                    self.count("resumed to the end" if scenario == "resume" else "uninterrupted")
                    if got != self.ref:
                        self.fail("%s: finished with losses that differ from the reference" % name)
                    elif scenario == "resume":
                        self.count("resumed runs with the uninterrupted per-batch losses")
                continue
            k += 1
            if scenario == "lrfind":
                where = "LR finder"
            elif moment == "checkpoint":
                where = "checkpoint write"
            elif name is None:
                where = "startup (before the run existed)"
            elif scenario == "resume":
                where = "random moment"  # the run's creation time says nothing of a resume's phase
            else:
                where = self.phase(name, killed_at)
            self.count("kills during %s%s" % ("a resume: " if scenario == "resume" else "", where))
            has_ckpt = self.check_after_kill(name, scenario)
            print("kill %3d: %-10s %-40s %s" % (k, scenario, where, name or "-"), flush=True)
            if name and scenario != "lrfind":
                (pending if has_ckpt else no_ckpt).append(name)
            while len(pending) > 4:
                self.finish(pending.pop(0))
        self.kills = k
        for name in pending:
            self.finish(name)
        for name in no_ckpt:
            p = self.run(["train", "--resume", name, "--runs", self.store, "--threads", "1", "--no-tui"],
                         check=False)
            self.count("killed before any checkpoint, --resume refused with a message"
                       if p.returncode != 0 and p.stderr.strip() else "killed before any checkpoint, resumed")
            if p.returncode == 0 and self.losses(name) != self.ref:
                self.fail("%s: resumed from no checkpoint with other losses" % name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dllab")
    ap.add_argument("--kills", type=int, default=200)
    ap.add_argument("--minutes", type=float, default=120)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="dllab-stress-")
    # A private copy: a rebuild of the tree during the (long) run must not swap the binary.
    dllab = os.path.join(work, "dllab")
    shutil.copy2(a.dllab, dllab)
    s = Stress(dllab, work, random.Random(a.seed))
    print("stress_train: seed %d, work folder %s" % (a.seed, work), flush=True)
    t0 = time.monotonic()
    s.reference()
    s.loop(a.kills, a.minutes)
    print("\n%d SIGKILLs in %.0f min (seed %d):" % (s.kills, (time.monotonic() - t0) / 60, a.seed))
    for key in sorted(s.counts):
        print("  %5d  %s" % (s.counts[key], key))
    print("  %5d  failures" % len(s.failures))
    for f in s.failures[:20]:
        print("         " + f)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if s.kills < a.kills:
        print("stopped at the %.0f-minute bound before %d kills" % (a.minutes, a.kills))
    sys.exit(1 if s.failures else 0)


if __name__ == "__main__":
    main()
