#!/usr/bin/python3
"""Writes tiny ONNX models for the hot-swap test: y = x * K for x float32
[N, 4] (batch dim symbolic), one file per (path, K) pair given as PATH=K."""
import sys

from onnx import TensorProto, helper, save


def scale_model(k):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    kt = helper.make_tensor("k", TensorProto.FLOAT, [1], [float(k)])
    node = helper.make_node("Mul", ["x", "k"], ["y"])
    g = helper.make_graph([node], "scale", [x], [y], initializer=[kt])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="kinfer-tests")


for arg in sys.argv[1:]:
    path, k = arg.rsplit("=", 1)
    save(scale_model(float(k)), path)
