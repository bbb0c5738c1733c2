"""``apply_weights``' shape check, which the mutation gate found untested (mutation/REPORT.md, `make mutate`)."""

import re

import pytest
import torch

from zmixlib.mixing import apply_weights


@pytest.mark.parametrize(
    "weights, got",
    [
        (torch.ones(4), "(4,)"),  # not a matrix, though its length is the batch
        (torch.ones(2, 2, 4), "(2, 2, 4)"),  # three dimensions, the last one the batch
        (torch.ones(4, 3), "(4, 3)"),  # a matrix whose columns are not the batch
        ([[0.25] * 4] * 4, "list"),  # not a tensor
    ],
)
def test_weights_of_the_wrong_shape_are_refused_naming_the_shape(weights, got):
    x, y = torch.randn(4, 3), torch.arange(4)
    with pytest.raises(ValueError, match=re.escape(f"weights must have shape (B', 4) to mix a batch of 4, got {got}")):
        apply_weights(x, y, weights, num_classes=4)


def test_weights_move_to_the_inputs_device_under_another_default_device():
    x, y = torch.randn(4, 3, dtype=torch.float64), torch.arange(4)
    w = torch.full((2, 4), 0.25, dtype=torch.float64)
    with torch.device("meta"):
        x_mix, y_mix = apply_weights(x, y, w, num_classes=4)
    assert x_mix.device.type == "cpu"
    torch.testing.assert_close(x_mix, w @ x)
    torch.testing.assert_close(y_mix, torch.full((2, 4), 0.25, dtype=y_mix.dtype))


def test_a_layout_that_is_neither_contiguous_nor_dense_is_copied_once_and_mixed():
    x = torch.randn(4, 8, 3, dtype=torch.float64)[:, ::2, :]  # strides (24, 6, 1): no view flattens it
    w = torch.softmax(torch.randn(4, 4, dtype=torch.float64), dim=1)
    x_mix, _ = apply_weights(x, torch.arange(4), w, num_classes=4)
    torch.testing.assert_close(x_mix, (w @ x.reshape(4, -1)).reshape(4, 4, 3))


def test_the_single_thread_column_blocks_write_on_the_inputs_device(one_thread):
    """The blocked CPU product (one thread, float32, at least two blocks of columns) under another default device."""
    x, y = torch.randn(4, 2 * 32768 + 5), torch.arange(4)  # cols = 512 KiB / (4 · 4 B) = 32768: two blocks + rest
    w = torch.softmax(torch.randn(4, 4), dim=1)
    with torch.device("meta"):
        x_mix, _ = apply_weights(x, y, w, num_classes=4)
    assert x_mix.device.type == "cpu"
    torch.testing.assert_close(x_mix, w @ x)


def test_soft_labels_num_classes_is_checked_by_name_and_one_class_is_allowed():
    from zmixlib.mixing import soft_labels

    with pytest.raises(ValueError, match=re.escape("num_classes must be >= 1, got 0")):
        soft_labels(torch.tensor([0, 0]), num_classes=0)
    assert torch.equal(soft_labels(torch.tensor([0, 0]), num_classes=1), torch.ones(2, 1))


def test_float64_probability_labels_keep_float64_beside_float32_images():
    """Labels follow the wider of x's and y's float dtypes (``_label_dtype``), never narrower than float32."""
    x = torch.randn(4, 3)
    y = torch.softmax(torch.randn(4, 5, dtype=torch.float64), dim=1)
    w = torch.full((2, 4), 0.25)
    _, y_mix = apply_weights(x, y, w, num_classes=5)
    assert y_mix.dtype == torch.float64
    torch.testing.assert_close(y_mix, w.double() @ y)


def test_half_precision_probability_labels_come_out_float32():
    from zmixlib.mixing import soft_labels

    y = torch.softmax(torch.randn(4, 5), dim=1).half()
    out = soft_labels(y, num_classes=5)
    assert out.dtype == torch.float32 and out.data_ptr() != y.data_ptr()
    torch.testing.assert_close(out, y.float())


@pytest.mark.parametrize("dtype", [torch.bool, torch.float32, torch.complex64])
def test_index_labels_must_be_integers(dtype):
    from zmixlib.mixing import soft_labels

    with pytest.raises(TypeError, match=re.escape(f"must hold integer class indices, got dtype {dtype}")):
        soft_labels(torch.zeros(4, dtype=dtype), num_classes=3)


def test_a_permuted_layout_is_mixed_as_its_logical_order():
    """A tensor whose memory order is not its logical order (here: a transposed view, not channels-last) is mixed
    row by row as if it were contiguous."""
    x = torch.randn(4, 6, 5, dtype=torch.float64).transpose(1, 2)  # strides (30, 1, 5)
    w = torch.softmax(torch.randn(3, 4, dtype=torch.float64), dim=1)
    x_mix, _ = apply_weights(x, torch.arange(4), w, num_classes=4)
    torch.testing.assert_close(x_mix, (w @ x.contiguous().reshape(4, -1)).reshape(3, 5, 6))
