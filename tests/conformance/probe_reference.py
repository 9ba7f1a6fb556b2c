"""Reference probe for editgate's conformance tests (tests/editors/conformance_test.cpp).

  probe_reference.py IN OUT

IN holds X_train, z_train, X_test, z_test. Standardises with StandardScaler
fitted on the training rows and fits scikit-learn's LogisticRegression(C=1.0,
lbfgs; binomial for two classes, multinomial otherwise), the probe editgate
implements; writes OUT with `pred` [n_test] (I64) and `accuracy` [1] (F64).
Exit 77 with a one-line reason when scikit-learn or safetensors is missing.
"""
import sys

try:
    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
except ImportError as e:
    print(f"SKIP: {e}")
    sys.exit(77)


def main() -> int:
    t = load_file(sys.argv[1])
    x_train, z_train = t["X_train"].double().numpy(), t["z_train"].long().numpy()
    x_test, z_test = t["X_test"].double().numpy(), t["z_test"].long().numpy()
    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(C=1.0, max_iter=10000, tol=1e-8)
    clf.fit(scaler.transform(x_train), z_train)
    pred = clf.predict(scaler.transform(x_test))
    accuracy = float(np.mean(pred == z_test))
    save_file({"pred": torch.from_numpy(pred.astype(np.int64)),
               "accuracy": torch.tensor([accuracy], dtype=torch.float64)}, sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
