using MLLrSched.Backend;

namespace MLLrSched.Torch;

// The backend seam: Tensor is the native backend's ITensor, with no wrapper in between.
public sealed partial class Tensor : ITensor
{
    private static Tensor Nat(ITensor t) => t as Tensor ?? throw new ArgumentException(
        $"A {t.GetType().Name} from backend '{t.Backend.Name}' was passed to a libtorch-native tensor operation; tensors of different backends cannot be mixed.");

    IBackend ITensor.Backend => NativeBackend.Instance;
    long[] ITensor.Shape => Shape;
    ITensor? ITensor.Grad { get => Grad; set => Grad = value == null ? null : Nat(value); }
    void ITensor.Backward() => Backward();
    ITensor ITensor.ZerosLike() => ZerosLike();
    ITensor ITensor.FullLike(double value) => FullLike(value);
    ITensor ITensor.Clone() => Clone();
    ITensor ITensor.Detach() => Detach();
    ITensor ITensor.ToDType(DType dtype) => To(dtype);
    ITensor ITensor.ToDevice(Device device) => To(device);
    ITensor ITensor.Reshape(params long[] shape) => Reshape(shape);
    ITensor ITensor.Narrow(long dim, long start, long length) => Narrow(dim, start, length);
    ITensor ITensor.Copy_(ITensor source) => Copy_(Nat(source));
    ITensor ITensor.Zero_() => Zero_();
    ITensor ITensor.Fill_(double value) => Fill_(value);
    ITensor ITensor.Add_(ITensor other, double alpha) => Add_(Nat(other), alpha);
    ITensor ITensor.Add_(double value) => Add_(value);
    ITensor ITensor.Sub_(ITensor other, double alpha) => Sub_(Nat(other), alpha);
    ITensor ITensor.Mul_(ITensor other) => Mul_(Nat(other));
    ITensor ITensor.Mul_(double value) => Mul_(value);
    ITensor ITensor.Div_(ITensor other) => Div_(Nat(other));
    ITensor ITensor.Div_(double value) => Div_(value);
    ITensor ITensor.AddCMul_(ITensor t1, ITensor t2, double value) => AddCMul_(Nat(t1), Nat(t2), value);
    ITensor ITensor.AddCDiv_(ITensor t1, ITensor t2, double value) => AddCDiv_(Nat(t1), Nat(t2), value);
    ITensor ITensor.Lerp_(ITensor end, double weight) => Lerp_(Nat(end), weight);
    ITensor ITensor.Sqrt_() => Sqrt_();
    ITensor ITensor.Neg_() => Neg_();
    ITensor ITensor.Abs_() => Abs_();
    ITensor ITensor.Sign_() => Sign_();
    ITensor ITensor.Pow_(double exponent) => Pow_(exponent);
    ITensor ITensor.Clamp_(double? min, double? max) => Clamp_(min, max);
    ITensor ITensor.Maximum_(ITensor other) => Maximum_(Nat(other));
    ITensor ITensor.MaskedFill_(ITensor mask, double value) => MaskedFill_(Nat(mask), value);
    ITensor ITensor.Add(ITensor other, double alpha) => Add(Nat(other), alpha);
    ITensor ITensor.Add(double value) => Add(value);
    ITensor ITensor.Sub(ITensor other, double alpha) => Sub(Nat(other), alpha);
    ITensor ITensor.Mul(ITensor other) => Mul(Nat(other));
    ITensor ITensor.Mul(double value) => Mul(value);
    ITensor ITensor.Div(ITensor other) => Div(Nat(other));
    ITensor ITensor.Div(double value) => Div(value);
    ITensor ITensor.Sqrt() => Sqrt();
    ITensor ITensor.Rsqrt() => Rsqrt();
    ITensor ITensor.Abs() => Abs();
    ITensor ITensor.Sign() => Sign();
    ITensor ITensor.Neg() => Neg();
    ITensor ITensor.Square() => Square();
    ITensor ITensor.Exp() => Exp();
    ITensor ITensor.Log() => Log();
    ITensor ITensor.Pow(double exponent) => Pow(exponent);
    ITensor ITensor.Maximum(ITensor other) => Maximum(Nat(other));
    ITensor ITensor.Minimum(ITensor other) => Minimum(Nat(other));
    ITensor ITensor.Clamp(double? min, double? max) => Clamp(min, max);
    ITensor ITensor.Where(ITensor condition, ITensor other) => Where(Nat(condition), Nat(other));
    ITensor ITensor.Gt(double value) => Gt(value);
    ITensor ITensor.Lt(double value) => Lt(value);
    ITensor ITensor.Eq(double value) => Eq(value);
    ITensor ITensor.IsFinite() => IsFinite();
    ITensor ITensor.Sum() => Sum();
    ITensor ITensor.Sum(long[] dims, bool keepDim) => Sum(dims, keepDim);
    ITensor ITensor.Mean() => Mean();
    ITensor ITensor.Mean(long[] dims, bool keepDim) => Mean(dims, keepDim);
    ITensor ITensor.Max() => Max();
    ITensor ITensor.Norm(double p) => Norm(p);
    ITensor ITensor.Norm(double p, long[] dims, bool keepDim) => Norm(p, dims, keepDim);
    ITensor ITensor.Dot(ITensor other) => Dot(Nat(other));
    ITensor ITensor.MatMul(ITensor other) => MatMul(Nat(other));
    double ITensor.Item() => ToDouble();
    ITensor ITensor.Coalesce() => Coalesce();
    ITensor ITensor.SparseIndices() => SparseIndices();
    ITensor ITensor.SparseValues() => SparseValues();
    ITensor ITensor.SparseMask(ITensor mask) => SparseMask(Nat(mask));
    ITensor ITensor.NewSparse(ITensor indices, ITensor values) => SparseCoo(Nat(indices), Nat(values), ShapeCached);
    ITensor ITensor.ToDense() => ToDense();
    float[] ITensor.ToFloatArray() => ToArray<float>();
    double[] ITensor.ToDoubleArray() => ToArray<double>();
    byte[] ITensor.ToBytes() => ToBytes();
    ITensor ITensor.DetachFromScope() => DetachFromScope();
}
