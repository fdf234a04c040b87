#!/usr/bin/env bash
# Regenerates docs/gallery/*.svg: one chart per schedule, drawn by `mllrsched schedule` (src/Cli).
#   bash tools/make-gallery.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/docs/gallery"
mkdir -p "$out"
dotnet build "$root/src/Cli/MLLrSched.Cli.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
cli=(dotnet "$root/src/Cli/bin/Release/net10.0/mllrsched.dll" schedule)

# A deterministic validation loss that improves, then plateaus with noise (for ReduceLROnPlateau).
metrics="$(mktemp)"
trap 'rm -f "$metrics"' EXIT
awk 'BEGIN { s = 12345; for (i = 1; i < 400; i++) { s = (1103515245 * s + 12345) % 2147483648;
       v = (i < 120 ? 1.5 - 0.01 * i : 0.3) + 0.04 * (s / 2147483648 - 0.5); printf "%.6f\n", v } }' > "$metrics"

draw() { # name lr steps spec [extra args...]
  local name=$1 lr=$2 steps=$3 spec=$4; shift 4
  "${cli[@]}" --lr "$lr" --steps "$steps" --spec "$spec" --format svg --out "$out/$name.svg" "$@"
  echo "docs/gallery/$name.svg"
}

# PyTorch torch.optim.lr_scheduler
draw LambdaLR 0.1 300 '{"type": "LambdaLR", "lr_lambda": "0.5 * (1 + math.cos(math.pi * epoch / 300)) if epoch >= 30 else (epoch + 1) / 30"}'
draw MultiplicativeLR 0.1 300 '{"type": "MultiplicativeLR", "lr_lambda": "0.99 if epoch % 50 else 0.7"}'
draw StepLR 0.1 300 '{"type": "StepLR", "step_size": 60, "gamma": 0.5}'
draw MultiStepLR 0.1 300 '{"type": "MultiStepLR", "milestones": [100, 200, 250], "gamma": 0.3}'
draw ConstantLR 0.1 100 '{"type": "ConstantLR", "factor": 0.25, "total_iters": 30}'
draw LinearLR 0.1 100 '{"type": "LinearLR", "start_factor": 0.05, "end_factor": 1.0, "total_iters": 60}'
draw ExponentialLR 0.1 300 '{"type": "ExponentialLR", "gamma": 0.99}' --log-y
draw PolynomialLR 0.1 300 '{"type": "PolynomialLR", "total_iters": 250, "power": 2.0}'
draw CosineAnnealingLR 0.1 400 '{"type": "CosineAnnealingLR", "T_max": 150, "eta_min": 0.001}'
draw CosineAnnealingWarmRestarts 0.1 700 '{"type": "CosineAnnealingWarmRestarts", "T_0": 50, "T_mult": 2, "eta_min": 0.001}'
draw CyclicLR 0.1 1000 '{"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 100, "step_size_down": 150, "mode": "triangular2"}'
draw CyclicLR-exp_range 0.1 1000 '{"type": "CyclicLR", "base_lr": 0.001, "max_lr": 0.1, "step_size_up": 80, "mode": "exp_range", "gamma": 0.998}'
draw OneCycleLR 0.1 1001 '{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000}'
draw OneCycleLR-three_phase 0.1 1001 '{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000, "three_phase": true, "anneal_strategy": "linear"}'
draw ReduceLROnPlateau 0.1 400 '{"type": "ReduceLROnPlateau", "mode": "min", "factor": 0.5, "patience": 10, "cooldown": 5, "min_lr": 0.001}' --metrics "$metrics"
draw SequentialLR 0.1 500 '{"type": "SequentialLR", "schedulers": [{"type": "LinearLR", "start_factor": 0.01, "total_iters": 50}, {"type": "CosineAnnealingLR", "T_max": 450, "eta_min": 1e-4}], "milestones": [50]}'
draw ChainedScheduler 0.1 500 '{"type": "ChainedScheduler", "schedulers": [{"type": "ConstantLR", "factor": 0.1, "total_iters": 50}, {"type": "ExponentialLR", "gamma": 0.995}]}'

# Hugging Face
draw hf-linear 5e-5 1000 '{"type": "linear", "num_warmup_steps": 100, "num_training_steps": 1000}'
draw hf-cosine 5e-5 1000 '{"type": "cosine", "num_warmup_steps": 100, "num_training_steps": 1000}'
draw hf-cosine_with_restarts 5e-5 1000 '{"type": "cosine_with_restarts", "num_warmup_steps": 100, "num_training_steps": 1000, "num_cycles": 3}'
draw hf-polynomial 5e-5 1000 '{"type": "polynomial", "num_warmup_steps": 100, "num_training_steps": 1000, "lr_end": 1e-6, "power": 2.0}'
draw hf-constant_with_warmup 5e-5 1000 '{"type": "constant_with_warmup", "num_warmup_steps": 200}'
draw hf-inverse_sqrt 5e-5 1000 '{"type": "inverse_sqrt", "num_warmup_steps": 100}'
draw hf-cosine_with_min_lr 5e-5 1000 '{"type": "cosine_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}'
draw hf-cosine_warmup_with_min_lr 5e-5 1000 '{"type": "cosine_warmup_with_min_lr", "num_warmup_steps": 100, "num_training_steps": 1000, "min_lr_rate": 0.1}'
draw hf-warmup_stable_decay 5e-5 1000 '{"type": "warmup_stable_decay", "num_warmup_steps": 100, "num_decay_steps": 300, "num_training_steps": 1000, "decay_type": "1-sqrt"}'

# Classic forms
draw noam 1.0 8000 '{"type": "noam", "model_size": 512, "warmup": 4000}'
draw bert-warmup_linear 5e-5 1000 '{"type": "warmup_linear", "t_total": 1000, "warmup": 0.1}'
draw detectron2-warmup-multistep 0.02 1000 '{"type": "MultiStepLR", "milestones": [600, 850], "gamma": 0.1, "warmup_iters": 200, "warmup_factor": 0.001, "warmup_method": "linear"}'
draw goyal-gradual-warmup 0.8 300 '{"type": "MultiStepLR", "milestones": [150, 250], "gamma": 0.1, "warmup_iters": 50, "warmup_factor": 0.125}'

# timm options on any schedule
draw timm-cosine-cycles 0.1 1500 '{"type": "CosineAnnealingLR", "T_max": 200, "eta_min": 1e-4, "cycle_mul": 2, "cycle_decay": 0.5, "cycle_limit": 3, "warmup_t": 30, "warmup_lr_init": 1e-4, "noise_range_t": [300, 700], "noise_pct": 0.2}'
draw timm-k_decay 0.1 500 '[{"type": "CosineAnnealingLR", "T_max": 500, "k_decay": 2.0}]' --title "CosineAnnealingLR with k_decay = 2"
draw timm-plateau-warmup 0.1 400 '{"type": "ReduceLROnPlateau", "factor": 0.5, "patience": 10, "warmup_t": 40, "warmup_lr_init": 0.001}' --metrics "$metrics" --title "ReduceLROnPlateau after a timm warmup"
draw weight-decay-schedule 0.1 1001 '[{"type": "OneCycleLR", "max_lr": 0.1, "total_steps": 1000, "cycle_momentum": false}, {"type": "CosineAnnealingLR", "T_max": 1000, "eta_min": 0.01, "param_group_field": "weight_decay"}]' --weight-decay 0.1 --title "OneCycleLR on lr, cosine on weight_decay"
