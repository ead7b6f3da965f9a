"""cvbench: classical computer-vision features against CNNs, measured."""

__version__ = "0.1.0"
