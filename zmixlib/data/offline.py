"""Real data that ships with scikit-learn, for CPU runs without downloads: digits, iris, wine, breast cancer.

- ``digits``: 1,797 images of 1x8x8, pixel values 0..16 scaled to ``[0, 1]``.
- ``iris``, ``wine``, ``breast-cancer``: feature vectors, standardised with the mean and standard
  deviation of the *train* split (so nothing leaks from test).

Splits: ``train`` / ``test`` = a stratified 80:20 split drawn with
``sklearn.model_selection.train_test_split(..., test_size=0.2, stratify=y, random_state=SPLIT_SEED)``;
``all`` = every sample (in scikit-learn's order; features standardised with the train statistics);
``val`` = a stratified 10 % of ``train`` and ``fit`` the rest (:func:`zmixlib.data._base.held_out_indices`), for
a validation protocol (notebook 06).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from zmixlib.data._base import HELD_OUT_SPLITS, ArrayDataset, DatasetInfo, split_of_train

SPLIT_SEED = 0
TEST_SIZE = 0.2
SPLITS = ("train", "test", "all", *HELD_OUT_SPLITS)
_NOTES = (
    "stratified 80:20 train/test split (train_test_split, random_state=0); 'all' = every sample; "
    "'val' = a stratified 10 % of train, 'fit' = the rest of train."
)

INFOS = [
    DatasetInfo(
        name="digits",
        family="offline",
        num_classes=10,
        class_names=tuple(str(i) for i in range(10)),
        channels=1,
        image_size=(8, 8),
        feature_dim=None,
        splits=SPLITS,
        folder=None,
        source="UCI Optical Recognition of Handwritten Digits, via sklearn.datasets.load_digits",
        licence="CC BY 4.0",
        obtain="bundled with scikit-learn; nothing to download",
        notes="1,797 images 1x8x8, values /16 to [0, 1]; " + _NOTES,
    ),
    DatasetInfo(
        name="iris",
        family="offline",
        num_classes=3,
        class_names=("setosa", "versicolor", "virginica"),
        channels=None,
        image_size=None,
        feature_dim=4,
        splits=SPLITS,
        folder=None,
        source="Fisher 1936, UCI Iris, via sklearn.datasets.load_iris",
        licence="CC BY 4.0",
        obtain="bundled with scikit-learn; nothing to download",
        notes="150 samples, 4 features standardised with train statistics; " + _NOTES,
    ),
    DatasetInfo(
        name="wine",
        family="offline",
        num_classes=3,
        class_names=("class_0", "class_1", "class_2"),
        channels=None,
        image_size=None,
        feature_dim=13,
        splits=SPLITS,
        folder=None,
        source="UCI Wine, via sklearn.datasets.load_wine",
        licence="CC BY 4.0",
        obtain="bundled with scikit-learn; nothing to download",
        notes="178 samples, 13 features standardised with train statistics; " + _NOTES,
    ),
    DatasetInfo(
        name="breast-cancer",
        family="offline",
        num_classes=2,
        class_names=("malignant", "benign"),
        channels=None,
        image_size=None,
        feature_dim=30,
        splits=SPLITS,
        folder=None,
        source="UCI Breast Cancer Wisconsin (Diagnostic), via sklearn.datasets.load_breast_cancer",
        licence="CC BY 4.0",
        obtain="bundled with scikit-learn; nothing to download",
        notes="569 samples, 30 features standardised with train statistics; " + _NOTES,
        aliases=("breast_cancer", "breastcancer"),
    ),
]


@cache
def _arrays(name: str):
    """(X, y, train_idx, test_idx) as numpy arrays; X already scaled/standardised."""
    # deferred: scikit-learn costs seconds to import and only these four sets need it
    import sklearn.datasets as skd
    from sklearn.model_selection import train_test_split

    loader = {
        "digits": skd.load_digits,
        "iris": skd.load_iris,
        "wine": skd.load_wine,
        "breast-cancer": skd.load_breast_cancer,
    }[name]
    bunch = loader()
    X, y = bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    idx = np.arange(len(y))
    train_idx, test_idx = train_test_split(idx, test_size=TEST_SIZE, stratify=y, random_state=SPLIT_SEED)
    if name == "digits":
        X = (X / 16.0).reshape(-1, 1, 8, 8)
    else:
        mean, std = X[train_idx].mean(axis=0), X[train_idx].std(axis=0)
        X = (X - mean) / np.where(std > 0, std, 1.0)
    return X.astype(np.float32), y, np.sort(train_idx), np.sort(test_idx)


def load(info: DatasetInfo, split: str, root, download: bool, transform) -> ArrayDataset:
    X, y, train_idx, test_idx = _arrays(info.name)
    if split != "all":
        idx = test_idx if split == "test" else train_idx[split_of_train(y[train_idx], split)]
        X, y = X[idx], y[idx]
    return ArrayDataset(X.copy(), y.copy(), classes=info.class_names, transform=transform)
