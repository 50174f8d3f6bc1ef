"""Connected-digit speech recognition (GMM-HMM and hybrid NN/HMM)."""
