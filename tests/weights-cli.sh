#!/bin/sh
# `dllab weights info|import` end to end on the .pth fixtures: what is printed, what is written, and
# the exit codes (0 ok, 1 failure with a message, 2 usage).
set -u
fx=${top_srcdir:-.}/tests/fixtures/pth
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/cli-lib.sh" # bin, fail, check NAME EXPECTED_RC PATTERN -- ARGS...
tiny='resnet-custom:basic:1,1,1,1:4,8,16,16:imagenet'
check info-arch 0 "architecture: $tiny \\(3 input channels, torchvision head\\)" -- weights info "$fx/tiny_resnet.pth"
check info-count 0 'parameter count: 10654 ' -- weights info "$fx/tiny_resnet.pth"
check info-key 0 'layer2\.0\.downsample\.0\.weight +F32 \(8, 4, 1, 1\)' -- weights info "$fx/tiny_resnet.pth"
check info-module 0 "prefix 'module.' removed" -- weights info "$fx/tiny_body_module.pth"
check info-fastai 0 'fastai head' -- weights info "$fx/tiny_fastai_export.pth"
check import 0 "as $tiny: 74 tensors" -- weights import "$fx/tiny_resnet.pth" --arch "$tiny" -o "$tmp/t.safetensors"
check import-info 0 'metadata: format = dllab' -- weights info "$tmp/t.safetensors"
check import-meta 0 'metadata: source = tiny_resnet.pth' -- weights info "$tmp/t.safetensors"
check import-body 0 'head: none in the file \(expected for transfer\)' -- weights import "$fx/tiny_body_module.pth" --arch "$tiny" -o "$tmp/b.safetensors"
check import-body-nbt 0 'num_batches_tracked: absent for 12' -- weights import "$fx/tiny_body_module.pth" --arch "$tiny" -o "$tmp/b.safetensors"
check body-has-no-fc 0 'metadata: body_only = 1' -- weights info "$tmp/b.safetensors"
if "$bin" weights info "$tmp/b.safetensors" | grep -q 'fc\.weight'; then echo "FAIL body-only file holds fc"; fail=1; fi
check wrong-arch 1 'does not fit resnet18' -- weights import "$fx/tiny_resnet.pth" --arch resnet18 -o "$tmp/x.safetensors"
[ -e "$tmp/x.safetensors" ] && { echo "FAIL wrong-arch left a file"; fail=1; }
check hostile 1 'GLOBAL os.system is not allowed' -- weights info "$fx/hostile_os_system.pth"
check legacy 1 'torch.save\(torch.load\(p\), p\)' -- weights info "$fx/legacy_pickle.pth"
check missing-file 1 'cannot open' -- weights info "$tmp/nope.pth"
check bad-arch 2 '--arch resnet-nonsense' -- weights import "$fx/tiny_resnet.pth" --arch resnet-nonsense -o "$tmp/x.safetensors"
check no-args 2 'usage: dllab weights' -- weights
check bad-sub 2 "unknown sub-command 'frob'" -- weights frob x
check no-arch 2 '--arch is required' -- weights import "$fx/tiny_resnet.pth" -o "$tmp/x.safetensors"
check no-out 2 '-o OUT.safetensors is required' -- weights import "$fx/tiny_resnet.pth" --arch resnet18
check bad-opt 2 "bad option '--frob'" -- weights info --frob "$fx/tiny_resnet.pth"
check two-files 2 'expected one FILE, got 2' -- weights info a b
check help 0 'usage: dllab weights' -- weights --help
exit $fail
