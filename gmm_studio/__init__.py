"""GMM Studio: watch Expectation-Maximization fit Gaussian mixture models."""

__version__ = "0.1.0"
