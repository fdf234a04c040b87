#!/usr/bin/python3
"""Golden data for the native binding: op values, autograd gradients, module initialisation and seeded
randomness, produced by real PyTorch (Debian python3-torch 1.13.1, the same libtorch the binding uses).

Run:  /usr/bin/python3 tools/golden/binding.py
Writes tools/golden/data/binding/{ops,autograd,modules,random}.json. Each case lists its inputs and the
expected outputs; test/MLLrSched.Torch.Tests/Golden*Tests.cs replays them through the C# binding.
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from goldenlib import meta, out_dir

OUT = out_dir("binding")
META = meta("tools/golden/binding.py")

DTYPES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64", torch.bool: "bool",
          torch.int32: "int32", torch.uint8: "uint8"}


def enc(t):
    t = t.detach().contiguous()
    data = t.reshape(-1).tolist()
    if t.dtype in (torch.float32, torch.float64):
        data = [float(x) if math.isfinite(x) else str(x) for x in data]
    return {"shape": list(t.shape), "dtype": DTYPES[t.dtype], "data": data}


g = torch.Generator().manual_seed(1234)


def rnd(*shape, dtype=torch.float64, lo=-2.0, hi=2.0):
    return (torch.rand(*shape, generator=g, dtype=torch.float64) * (hi - lo) + lo).to(dtype)


def pos(*shape, dtype=torch.float64):
    return rnd(*shape, dtype=dtype, lo=0.1, hi=3.0)


def write(name, cases):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({"meta": META, "cases": cases}, f, indent=0)
    print(f"wrote {name}.json: {len(cases)} cases")


# ----------------------------------------------------------------------------------------- ops
def ops():
    cases = []

    def case(name, inputs, output, **args):
        cases.append({"name": name, "args": args, "inputs": [enc(x) for x in inputs],
                      "outputs": [enc(o) for o in (output if isinstance(output, (list, tuple)) else [output])]})

    for dt in (torch.float64, torch.float32):
        a, b, c = rnd(3, 4, dtype=dt), rnd(3, 4, dtype=dt), pos(3, 4, dtype=dt)
        p = pos(3, 4, dtype=dt)
        case("add_alpha", [a, b], torch.add(a, b, alpha=0.7), alpha=0.7)
        case("sub_alpha", [a, b], torch.sub(a, b, alpha=1.5), alpha=1.5)
        case("mul", [a, b], a * b)
        case("div", [a, c], a / c)
        case("pow_tensor", [p, b], torch.pow(p, b))
        case("pow_scalar", [p], p ** 2.5, exponent=2.5)
        case("maximum", [a, b], torch.maximum(a, b))
        case("minimum", [a, b], torch.minimum(a, b))
        case("addcmul", [a, b, c], torch.addcmul(a, b, c, value=0.3), value=0.3)
        case("addcdiv", [a, b, c], torch.addcdiv(a, b, c, value=-0.4), value=-0.4)
        case("lerp_scalar", [a, b], torch.lerp(a, b, 0.25), weight=0.25)
        case("lerp_tensor", [a, b, torch.sigmoid(c)], torch.lerp(a, b, torch.sigmoid(c)))
        for op in ("sqrt", "rsqrt", "log", "reciprocal"):
            case(op, [p], getattr(torch, op)(p))
        for op in ("exp", "sign", "abs", "neg", "sigmoid", "tanh", "relu", "square", "floor", "ceil", "sin", "cos", "erf"):
            case(op, [a], getattr(torch, op)(a))
        case("gelu", [a], F.gelu(a))
        case("gelu_tanh", [a], F.gelu(a, approximate="tanh"))
        case("silu", [a], F.silu(a))
        case("softplus", [a], F.softplus(a))
        case("leaky_relu", [a], F.leaky_relu(a))
        case("elu", [a], F.elu(a))
        case("mish", [a], F.mish(a))
        case("clamp_both", [a], torch.clamp(a, -0.5, 0.8), min=-0.5, max=0.8)
        case("clamp_min", [a], torch.clamp(a, min=0.1), min=0.1)
        case("add_scalar", [a], a + 1.25, value=1.25)
        case("mul_scalar", [a], a * -3.0, value=-3.0)
        case("div_scalar", [a], a / 7.0, value=7.0)
        case("rsub_scalar", [a], 2.0 - a, value=2.0)
        case("where", [a > 0, a, b], torch.where(a > 0, a, b))
        # reductions
        x = rnd(2, 3, 4, dtype=dt)
        case("sum_all", [x], x.sum())
        case("sum_dims", [x], x.sum(dim=(0, 2), keepdim=True), dims=[0, 2], keepdim=True)
        case("mean_all", [x], x.mean())
        case("mean_dim", [x], x.mean(dim=1), dims=[1], keepdim=False)
        case("amax_dim", [x], x.amax(dim=2), dims=[2], keepdim=False)
        case("max_all", [x], x.max())
        case("min_all", [x], x.min())
        for p_ in (2.0, 1.0, float("inf"), 3.0):
            case("norm_all", [x], torch.linalg.vector_norm(x, p_), p=p_ if math.isfinite(p_) else "inf")
        case("norm_dim", [x], torch.linalg.vector_norm(x, 2.0, dim=(1,), keepdim=True), p=2.0, dims=[1], keepdim=True)
        case("var_dim", [x], x.var(dim=1, unbiased=True), dims=[1], unbiased=True)
        case("std_biased", [x], x.std(dim=2, unbiased=False), dims=[2], unbiased=False)
        case("logsumexp", [x], torch.logsumexp(x, dim=2), dims=[2])
        case("argmax_dim", [x], x.argmax(dim=1), dim=1)
        vals, idx = x.max(dim=2)
        case("max_dim", [x], [vals, idx], dim=2)
        # linear algebra
        m1, m2, v1, v2 = rnd(3, 5, dtype=dt), rnd(5, 2, dtype=dt), rnd(5, dtype=dt), rnd(5, dtype=dt)
        bias = rnd(3, 2, dtype=dt)
        case("matmul", [m1, m2], m1 @ m2)
        case("mm", [m1, m2], torch.mm(m1, m2))
        case("addmm", [bias, m1, m2], torch.addmm(bias, m1, m2, beta=0.5, alpha=2.0), beta=0.5, alpha=2.0)
        case("dot", [v1, v2], torch.dot(v1, v2))
        case("outer", [v1, v2], torch.outer(v1, v2))
        bm1, bm2 = rnd(2, 3, 4, dtype=dt), rnd(2, 4, 2, dtype=dt)
        case("bmm", [bm1, bm2], torch.bmm(bm1, bm2))
        case("matmul_batched", [bm1, m2[:4]], bm1 @ m2[:4])

    # shape and indexing (float32 only)
    x = rnd(2, 3, 4, dtype=torch.float32)
    y = rnd(2, 3, 4, dtype=torch.float32)
    case("reshape", [x], x.reshape(4, 6), shape=[4, 6])
    case("permute", [x], x.permute(2, 0, 1).contiguous(), dims=[2, 0, 1])
    case("transpose", [x], x.transpose(0, 2).contiguous(), d0=0, d1=2)
    case("flatten", [x], x.flatten(1), start=1, end=-1)
    case("cat", [x, y], torch.cat([x, y], dim=1), dim=1)
    case("stack", [x, y], torch.stack([x, y], dim=0), dim=0)
    case("narrow", [x], x.narrow(2, 1, 2).contiguous(), dim=2, start=1, length=2)
    case("slice_step", [x], x[:, :, 0:4:2].contiguous(), dim=2, start=0, end=4, step=2)
    case("select", [x], x.select(1, 2), dim=1, index=2)
    idx = torch.tensor([2, 0, 2], dtype=torch.int64)
    case("index_select", [x, idx], x.index_select(1, idx), dim=1)
    gidx = torch.tensor([[[0, 3, 1, 2]] * 3] * 2, dtype=torch.int64)
    case("gather", [x, gidx], x.gather(2, gidx), dim=2)
    mask = x > 0
    case("masked_select", [x, mask], x[mask])
    mf = x.clone().masked_fill_(mask, -1.0)
    case("masked_fill", [x, mask], mf, value=-1.0)
    case("unsqueeze_squeeze", [x], x.unsqueeze(1).squeeze(1), dim=1)
    case("expand", [x[:, :1, :]], x[:, :1, :].expand(2, 3, 4).contiguous(), shape=[2, 3, 4])
    case("cumulative_split", [x], list(x.split(2, dim=2)), size=2, dim=2)
    ints = torch.tensor([5, -3, 7, 0], dtype=torch.int64)
    case("int_add_scalar", [ints], ints + 2, value=2)
    case("int_floor_div", [ints, torch.tensor([2, 2, 3, 1])], torch.div(ints, torch.tensor([2, 2, 3, 1]), rounding_mode="floor"))
    case("int_to_float", [ints], ints.to(torch.float32))
    case("eq_scalar", [ints], ints == 7, value=7)
    write("ops", cases)


# ----------------------------------------------------------------------------------------- nn functional
def functional():
    cases = []

    def case(name, inputs, output, **args):
        cases.append({"name": name, "args": args, "inputs": [enc(x) for x in inputs],
                      "outputs": [enc(o) for o in (output if isinstance(output, (list, tuple)) else [output])]})

    f32 = torch.float32
    x = rnd(4, 5, dtype=f32)
    w = rnd(3, 5, dtype=f32)
    b = rnd(3, dtype=f32)
    case("linear", [x, w, b], F.linear(x, w, b))
    case("linear_nobias", [x, w], F.linear(x, w))
    img = rnd(2, 3, 9, 8, dtype=f32)
    cw = rnd(4, 3, 3, 3, dtype=f32)
    cb = rnd(4, dtype=f32)
    case("conv2d", [img, cw, cb], F.conv2d(img, cw, cb), stride=[1, 1], padding=[0, 0], dilation=[1, 1], groups=1)
    case("conv2d_s2_p1", [img, cw, cb], F.conv2d(img, cw, cb, stride=2, padding=1), stride=[2, 2], padding=[1, 1], dilation=[1, 1], groups=1)
    case("conv2d_dil", [img, cw], F.conv2d(img, cw, None, dilation=2), stride=[1, 1], padding=[0, 0], dilation=[2, 2], groups=1)
    gw = rnd(6, 1, 3, 3, dtype=f32)
    case("conv2d_groups", [img, gw], F.conv2d(img, gw, None, padding=1, groups=3), stride=[1, 1], padding=[1, 1], dilation=[1, 1], groups=3)
    case("max_pool2d", [img], F.max_pool2d(img, 2), kernel=[2, 2], stride=[2, 2], padding=[0, 0], ceil=False)
    case("max_pool2d_ceil", [img], F.max_pool2d(img, 3, stride=2, padding=1, ceil_mode=True), kernel=[3, 3], stride=[2, 2], padding=[1, 1], ceil=True)
    case("avg_pool2d", [img], F.avg_pool2d(img, 2), kernel=[2, 2], stride=[2, 2], padding=[0, 0], ceil=False)
    case("adaptive_avg_pool2d", [img], F.adaptive_avg_pool2d(img, (2, 3)), out=[2, 3])
    ln_w, ln_b = rnd(5, dtype=f32), rnd(5, dtype=f32)
    case("layer_norm", [x, ln_w, ln_b], F.layer_norm(x, (5,), ln_w, ln_b, 1e-5), shape=[5], eps=1e-5)
    # batch norm: training updates running stats in place
    bx = rnd(6, 4, dtype=f32)
    rm, rv = rnd(4, dtype=f32), pos(4, dtype=f32)
    bw, bb = rnd(4, dtype=f32), rnd(4, dtype=f32)
    rm2, rv2 = rm.clone(), rv.clone()
    out = F.batch_norm(bx, rm2, rv2, bw, bb, training=True, momentum=0.2, eps=1e-5)
    case("batch_norm_train", [bx, rm, rv, bw, bb], [out, rm2, rv2], momentum=0.2, eps=1e-5)
    case("batch_norm_eval", [bx, rm, rv, bw, bb], F.batch_norm(bx, rm, rv, bw, bb, training=False, eps=1e-5), momentum=0.2, eps=1e-5)
    emb_w = rnd(7, 3, dtype=f32)
    eidx = torch.tensor([[1, 6, 0], [3, 3, 2]], dtype=torch.int64)
    case("embedding", [eidx, emb_w], F.embedding(eidx, emb_w))
    logits = rnd(5, 4, dtype=f32)
    case("log_softmax", [logits], F.log_softmax(logits, 1), dim=1)
    case("softmax", [logits], F.softmax(logits, 0), dim=0)
    tgt = torch.tensor([0, 3, 1, 1, 2], dtype=torch.int64)
    cw_ = pos(4, dtype=f32)
    case("cross_entropy", [logits, tgt], F.cross_entropy(logits, tgt))
    case("cross_entropy_sum", [logits, tgt], F.cross_entropy(logits, tgt, reduction="sum"), reduction="sum")
    case("cross_entropy_none", [logits, tgt], F.cross_entropy(logits, tgt, reduction="none"), reduction="none")
    case("cross_entropy_weight", [logits, tgt, cw_], F.cross_entropy(logits, tgt, weight=cw_))
    tgt_ign = torch.tensor([0, -100, 1, 3, -100], dtype=torch.int64)
    case("cross_entropy_ignore", [logits, tgt_ign], F.cross_entropy(logits, tgt_ign))
    tgt_ign2 = torch.tensor([0, 2, 1, 2, 3], dtype=torch.int64)
    case("cross_entropy_ignore2", [logits, tgt_ign2], F.cross_entropy(logits, tgt_ign2, ignore_index=2), ignore_index=2)
    case("cross_entropy_smooth", [logits, tgt], F.cross_entropy(logits, tgt, label_smoothing=0.1), label_smoothing=0.1)
    case("cross_entropy_smooth_weight_ignore", [logits, tgt_ign, cw_],
         F.cross_entropy(logits, tgt_ign, weight=cw_, label_smoothing=0.2), label_smoothing=0.2)
    probs = F.softmax(rnd(5, 4, dtype=f32), 1)
    case("cross_entropy_probs", [logits, probs], F.cross_entropy(logits, probs))
    lp = F.log_softmax(logits, 1)
    case("nll_loss", [lp, tgt], F.nll_loss(lp, tgt))
    case("nll_loss_weight_sum", [lp, tgt, cw_], F.nll_loss(lp, tgt, weight=cw_, reduction="sum"), reduction="sum")
    pred, targ = rnd(4, 3, dtype=f32), rnd(4, 3, dtype=f32)
    case("mse_loss", [pred, targ], F.mse_loss(pred, targ))
    case("mse_loss_none", [pred, targ], F.mse_loss(pred, targ, reduction="none"), reduction="none")
    case("l1_loss", [pred, targ], F.l1_loss(pred, targ))
    case("smooth_l1_loss", [pred, targ], F.smooth_l1_loss(pred, targ, beta=0.5), beta=0.5)
    case("huber_loss", [pred, targ], F.huber_loss(pred, targ, delta=0.7), delta=0.7)
    yb = (rnd(4, 3, dtype=f32) > 0).to(f32)
    bw_, pw = pos(4, 3, dtype=f32), pos(3, dtype=f32)
    case("bce_with_logits", [pred, yb], F.binary_cross_entropy_with_logits(pred, yb))
    case("bce_with_logits_weights", [pred, yb, bw_, pw], F.binary_cross_entropy_with_logits(pred, yb, weight=bw_, pos_weight=pw))
    case("one_hot", [tgt], F.one_hot(tgt, 5), num_classes=5)
    write("functional", cases)


# ----------------------------------------------------------------------------------------- autograd
def autograd():
    cases = []
    f32 = torch.float32
    # 1. MLP + cross entropy: grads of every parameter and of the input
    x = rnd(6, 5, dtype=f32).requires_grad_()
    w1, b1 = rnd(4, 5, dtype=f32).requires_grad_(), rnd(4, dtype=f32).requires_grad_()
    w2, b2 = rnd(3, 4, dtype=f32).requires_grad_(), rnd(3, dtype=f32).requires_grad_()
    y = torch.tensor([0, 2, 1, 1, 0, 2])
    loss = F.cross_entropy(F.linear(torch.tanh(F.linear(x, w1, b1)), w2, b2), y, label_smoothing=0.05)
    loss.backward()
    cases.append({"name": "mlp_cross_entropy", "inputs": [enc(t) for t in (x, w1, b1, w2, b2, y)],
                  "loss": enc(loss), "grads": [enc(t.grad) for t in (x, w1, b1, w2, b2)]})
    # 2. conv -> relu -> maxpool -> flatten -> linear -> mse
    img = rnd(2, 2, 6, 6, dtype=f32).requires_grad_()
    cw, cb = rnd(3, 2, 3, 3, dtype=f32).requires_grad_(), rnd(3, dtype=f32).requires_grad_()
    lw = rnd(2, 12, dtype=f32).requires_grad_()
    target = rnd(2, 2, dtype=f32)
    h = F.max_pool2d(F.relu(F.conv2d(img, cw, cb)), 2).flatten(1)
    loss = F.mse_loss(F.linear(h, lw), target)
    loss.backward()
    cases.append({"name": "conv_pool_linear_mse", "inputs": [enc(t) for t in (img, cw, cb, lw, target)],
                  "loss": enc(loss), "grads": [enc(t.grad) for t in (img, cw, cb, lw)]})
    # 3. layer norm + gelu + sum of squares; gradient accumulates over two backward calls
    z = rnd(3, 4, dtype=f32).requires_grad_()
    lnw, lnb = rnd(4, dtype=f32).requires_grad_(), rnd(4, dtype=f32).requires_grad_()
    for _ in range(2):
        out = F.gelu(F.layer_norm(z, (4,), lnw, lnb)).pow(2).sum()
        out.backward()
    cases.append({"name": "layernorm_gelu_twice", "inputs": [enc(t) for t in (z, lnw, lnb)],
                  "loss": enc(out), "grads": [enc(t.grad) for t in (z, lnw, lnb)]})
    # 4. batch norm (training) + bce with logits
    bx = rnd(8, 3, dtype=f32).requires_grad_()
    bw, bb = rnd(3, dtype=f32).requires_grad_(), rnd(3, dtype=f32).requires_grad_()
    yt = (rnd(8, 3, dtype=f32) > 0).to(f32)
    loss = F.binary_cross_entropy_with_logits(F.batch_norm(bx, None, None, bw, bb, training=True), yt)
    loss.backward()
    cases.append({"name": "batchnorm_bce", "inputs": [enc(t) for t in (bx, bw, bb, yt)],
                  "loss": enc(loss), "grads": [enc(t.grad) for t in (bx, bw, bb)]})
    # 5. embedding (dense and sparse grads) + addcmul/addcdiv/lerp/clamp/norm chain
    ew = rnd(6, 3, dtype=f32).requires_grad_()
    ids = torch.tensor([1, 4, 1, 5])
    e = F.embedding(ids, ew)
    loss = (torch.addcdiv(e, e, e.abs() + 1, value=0.5).clamp(-1, 1).lerp(e * 2, 0.3)).norm()
    loss.backward()
    cases.append({"name": "embedding_chain", "inputs": [enc(ew), enc(ids)], "loss": enc(loss), "grads": [enc(ew.grad)]})
    ews = ew.detach().clone().requires_grad_()
    F.embedding(ids, ews, sparse=True).pow(2).sum().backward()
    sg = ews.grad.coalesce()
    cases.append({"name": "embedding_sparse_grad", "inputs": [enc(ews.detach()), enc(ids)],
                  "sparse_indices": enc(sg.indices()), "sparse_values": enc(sg.values()), "dense": enc(sg.to_dense())})
    write("autograd", cases)


# ----------------------------------------------------------------------------------------- modules
def modules():
    cases = []

    def state(m):
        return [{"name": k, "tensor": enc(v)} for k, v in m.state_dict().items()]

    torch.manual_seed(7)
    lin = nn.Linear(5, 3)
    cases.append({"name": "linear_init", "seed": 7, "state": state(lin)})
    torch.manual_seed(11)
    seq = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    cases.append({"name": "sequential_init", "seed": 11, "state": state(seq)})
    torch.manual_seed(3)
    conv = nn.Conv2d(2, 4, 3, stride=1, padding=1)
    cases.append({"name": "conv2d_init", "seed": 3, "state": state(conv)})
    torch.manual_seed(5)
    emb = nn.Embedding(10, 4, padding_idx=1)
    cases.append({"name": "embedding_init", "seed": 5, "state": state(emb)})
    # BatchNorm1d: two training steps then eval, with momentum 0.1 and momentum None
    for mom in (0.1, None):
        bn = nn.BatchNorm1d(3, momentum=mom)
        xs = [rnd(5, 3, dtype=torch.float32) for _ in range(2)]
        outs = [bn(x) for x in xs]
        bn.eval()
        ev = bn(xs[0])
        cases.append({"name": f"batchnorm1d_momentum_{mom}", "momentum": mom, "inputs": [enc(x) for x in xs],
                      "train_outputs": [enc(o) for o in outs], "eval_output": enc(ev), "state": state(bn)})
    bn2 = nn.BatchNorm2d(2)
    x4 = rnd(3, 2, 4, 4, dtype=torch.float32)
    o4 = bn2(x4)
    cases.append({"name": "batchnorm2d", "inputs": [enc(x4)], "train_outputs": [enc(o4)], "state": state(bn2)})
    # A small CNN: same seed -> same init and same forward output
    torch.manual_seed(21)
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))
    xi = rnd(2, 1, 8, 8, dtype=torch.float32)
    cases.append({"name": "cnn_forward", "seed": 21, "inputs": [enc(xi)], "output": enc(cnn(xi)), "state": state(cnn)})
    write("modules", cases)


# ----------------------------------------------------------------------------------------- random
def random_():
    cases = []
    torch.manual_seed(42)
    cases.append({"name": "rand", "seed": 42, "output": enc(torch.rand(3, 4))})
    torch.manual_seed(42)
    cases.append({"name": "randn", "seed": 42, "output": enc(torch.randn(5, 3))})
    torch.manual_seed(42)
    cases.append({"name": "randn_float64", "seed": 42, "output": enc(torch.randn(7, dtype=torch.float64))})
    torch.manual_seed(42)
    cases.append({"name": "randperm", "seed": 42, "output": enc(torch.randperm(20))})
    torch.manual_seed(42)
    cases.append({"name": "randint", "seed": 42, "output": enc(torch.randint(0, 10, (12,)))})
    torch.manual_seed(9)
    cases.append({"name": "dropout", "seed": 9, "p": 0.3, "output": enc(F.dropout(torch.ones(40), 0.3))})
    gen = torch.Generator().manual_seed(77)
    cases.append({"name": "generator_randn", "seed": 77, "output": enc(torch.randn(6, generator=gen))})
    torch.manual_seed(13)
    cases.append({"name": "normal_", "seed": 13, "mean": 1.5, "std": 0.5, "output": enc(torch.empty(8).normal_(1.5, 0.5))})
    torch.manual_seed(13)
    cases.append({"name": "uniform_", "seed": 13, "low": -3.0, "high": 2.0, "output": enc(torch.empty(8).uniform_(-3.0, 2.0))})
    write("random", cases)


if __name__ == "__main__":
    torch.set_num_threads(1)
    ops()
    functional()
    autograd()
    modules()
    random_()
