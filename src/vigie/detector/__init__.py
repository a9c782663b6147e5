"""The statistical AI-image detector: a small CNN trained by `vigie ai train`, run with onnxruntime.

Training (PyTorch, the `train` extra) lives in `training.py`, `autoencoder.py` and `synthetic.py`;
scanning needs only `runtime.py` and the ONNX file.
"""
