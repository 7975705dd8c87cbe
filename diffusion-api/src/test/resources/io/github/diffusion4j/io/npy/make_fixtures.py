# Writes the .npy fixtures of NpyWriterTest with NumPy's own writer (numpy.save); run with NumPy 1.24:
#   cd diffusion-api/src/test/resources/io/github/diffusion4j/io/npy && python3 make_fixtures.py
import numpy as np

a = np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) / 8 - 1.5
a[0, 0, 0, 1] = np.float32(1 / 3)
a[1, 2, 1, 0] = np.float32(-3e-39)  # a subnormal
np.save("nchw_2x3x2x2.npy", a)
np.save("vector_3.npy", np.array([0.1, -2.5, 65504.0], dtype=np.float32))
