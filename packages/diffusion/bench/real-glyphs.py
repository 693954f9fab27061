"""Renders held-out-font glyphs (the glyph classifier's "test" split: fonts whose sorted index % 6 == 0,
with the same random affine jitter, tools/fixtures/glyphs.py) and writes them as raw little-endian
float32 [n, 1, 32, 32] in [-1, 1] to stdout, preceded by one JSON header line with the labels.

Used by bench/glyph-reference.ts, which computes the classifier features of these images and stores their
statistics in fixtures/glyph-classifier/real-features.json (the reference of the bench's Fréchet distance):

    /usr/bin/python3 packages/diffusion/bench/real-glyphs.py --classes 0,3,6 --per-class 50 --seed 7 > out
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tools", "fixtures"))
from glyphs import GlyphSampler  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--classes", required=True, help="comma-separated class ids")
p.add_argument("--per-class", type=int, required=True)
p.add_argument("--seed", type=int, required=True)
a = p.parse_args()
classes = [int(c) for c in a.classes.split(",")]
labels = [c for _ in range(a.per_class) for c in classes]
s = GlyphSampler(seed=a.seed, split="test")
x, y = s.batch(len(labels), labels=labels)
sys.stdout.write(json.dumps({"labels": [int(v) for v in y], "fonts": len(s.fonts)}) + "\n")
sys.stdout.flush()
sys.stdout.buffer.write(x.astype("<f4").tobytes())
