"""``state_dict()`` / ``load_state_dict()``: save an optimizer and resume it elsewhere.

Run: ``python examples/optimizer_state_dict.py [DIR]``. Ten steps of
``SGD([weight], lr=0.1, momentum=0.9)`` fill the momentum buffer; the state dict is saved to
``DIR/optimizer_state_dict.pkl`` (the tutorial's name; the file holds no pickle) and loaded
into a fresh optimizer.
"""
import sys
import tempfile

from tinygrad_optim.tour import optimizer_basics

if __name__ == "__main__":
    out_dir = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp()
    optimizer_basics.state_dict(out_dir)
