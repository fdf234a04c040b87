namespace MLLrSched.Torch.Native;

// Op codes of the shim's dispatching entry points (native/src/tensor_math.cpp). The numbers are
// part of the ABI: append, never reorder.

internal enum UnaryOp
{
    Neg = 0, Abs, Sqrt, Rsqrt, Exp, Log, Sign, Reciprocal, Square, Sigmoid,
    Tanh, Relu, Gelu, Silu, Floor, Ceil, Round, Log1p, Expm1, Sin, Cos,
    IsNan, IsFinite, LogicalNot, Zero, Erf, Trunc, GeluTanh, IsInf, Log2,
    Softplus, Elu, LeakyRelu, Mish, Hardswish, Conj, Signbit,
}

internal enum BinaryOp
{
    Add = 0, Sub, Mul, Div, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge,
    Atan2, Fmod, Remainder, LogicalAnd, LogicalOr, FloorDivide, MatMul, Mm,
    Dot, Outer, Bmm, Rsub, Hypot, Copysign,
}

internal enum ReduceOp
{
    Sum = 0, Mean, Amax, Amin, Prod, All, Any, LogSumExp, ArgMax, ArgMin,
    Var, Std, VarBiased, StdBiased, CountNonzero,
}

internal enum ForeachInPlaceOp
{
    AddList = 0, MulList, DivList, AddScalar, MulScalar, DivScalar, Sqrt, Zero, MaximumList, AddCMul, AddCDiv, Neg,
}

internal enum ForeachOp
{
    Sqrt = 0, Norm, AddList, MulScalar, DivList, Abs,
}
