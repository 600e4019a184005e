"""RandAugment's point operations as PIL computes them (timm's auto_augment calls exactly these),
on one small random RGB frame: Tests/Fixtures/randaugment_pil.json. RandAugmentTests replays it.

usage: bash ../shared/peer/setup.sh && /tmp/vmae-peer-venv/bin/pip install pillow
       /tmp/vmae-peer-venv/bin/python Tools/parity/make_randaugment_fixture.py
"""
import json, numpy as np
from PIL import Image, ImageOps, ImageEnhance
rng = np.random.default_rng(0)
w, h = 13, 9
a = rng.integers(20, 230, size=(h, w, 3), dtype=np.uint8)
a[0, 0] = [3, 250, 128]  # some extremes for autocontrast / solarize
img = Image.fromarray(a, 'RGB')
def lut_solarize_add(add, thresh=128):
    lut = [min(255, i + add) if i < thresh else i for i in range(256)]
    return img.point(lut * 3)
cases = [
    ('invert', 0, ImageOps.invert(img)),
    ('posterize', 2, ImageOps.posterize(img, 2)),
    ('solarize', 128, ImageOps.solarize(img, 128)),
    ('solarize', 77, ImageOps.solarize(img, 77)),
    ('solarizeAdd', 77, lut_solarize_add(77)),
    ('autoContrast', 0, ImageOps.autocontrast(img)),
    ('equalize', 0, ImageOps.equalize(img)),
    ('color', 1.63, ImageEnhance.Color(img).enhance(1.63)),
    ('color', 0.37, ImageEnhance.Color(img).enhance(0.37)),
    ('contrast', 1.63, ImageEnhance.Contrast(img).enhance(1.63)),
    ('contrast', 0.37, ImageEnhance.Contrast(img).enhance(0.37)),
    ('brightness', 1.63, ImageEnhance.Brightness(img).enhance(1.63)),
    ('brightness', 0.37, ImageEnhance.Brightness(img).enhance(0.37)),
    ('sharpness', 1.63, ImageEnhance.Sharpness(img).enhance(1.63)),
    ('sharpness', 0.37, ImageEnhance.Sharpness(img).enhance(0.37)),
]
out = {'width': w, 'height': h, 'input': a.reshape(-1).tolist(),
       'cases': [{'op': op, 'value': v, 'output': np.asarray(o).reshape(-1).tolist()} for op, v, o in cases]}
json.dump(out, open('Tests/Fixtures/randaugment_pil.json', 'w'))
print('wrote', len(cases), 'cases')
