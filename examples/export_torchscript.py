"""Export your own PyTorch model for a cairn job (`model: {torchscript: FILE}`).

The module's forward must return logits: [B, classes] for images ([B,1,H,W]
floats in [0, 1]) or [B, T, 256] for text ([B, T] int64 bytes). Set
`cairn_task = "lm"` on a text model. cairn trains it with the job's loss
(cross-entropy) and strategy, and registers the trained TorchScript file.

    python3 examples/export_torchscript.py my-model.pt
"""
import sys

import torch


class TinyConvNet(torch.nn.Module):
    cairn_task: str

    def __init__(self):
        super().__init__()
        self.cairn_task = "image"
        self.conv = torch.nn.Conv2d(1, 16, 3, padding=1)
        self.fc = torch.nn.Linear(16 * 14 * 14, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc(h.flatten(1))


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "tiny-convnet.pt"
    torch.jit.script(TinyConvNet()).save(out)
    print(f"wrote {out}; use it with:  model: {{torchscript: {out}}}")
