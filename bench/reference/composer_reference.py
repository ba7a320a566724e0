#!/usr/bin/python3
"""The accuracy study's recipe and a training-speed check in PyTorch, with Composer's GhostBatchNorm semantics.

A benchmark tool, not a test: it runs on Debian's PyTorch (apt-get install python3-torch), with /usr/bin/python3,
side by side with `./build.sh bench accuracy` (both append to artifacts/accuracy/accuracy.csv) and
`./build.sh bench peer-speed` (which runs this script's `speed` itself).

The recipe (the same as bench/Ghost.ML.Benchmarks/Accuracy/AccuracyStudy.cs):
  network        ResNet-20 for 1-channel 28x28 input (He et al. 2016, section 4.2): 3x3 conv to 16 channels,
                 three stages of three BasicBlocks with 16/32/64 channels (stride 2 at the start of stages 2 and 3),
                 projection shortcuts (1x1 conv + BatchNorm) where the shape changes, global average pooling, a
                 linear classifier. Convolutions Kaiming-normal (fan-out, ReLU), BatchNorm scale 1 and shift 0.
  normalisation  plain BatchNorm2d, or Composer's GhostBatchNorm: in training, a batch of N is cut by
                 torch.chunk into k = ceil(N / G) contiguous chunks (of ceil(N / k) samples, the last shorter), each
                 normalised by BatchNorm with momentum 0.1 / k, so the running statistics get k updates in order.
                 At evaluation it is plain BatchNorm.
  data           Fashion-MNIST, all 60 000 training and 10 000 test images, pixels / 255 standardised with
                 mean 0.2860 and deviation 0.3530; no augmentation.
  schedule       SGD with Nesterov momentum 0.9, weight decay 5e-4, learning rate 0.1 * batch / 256 reached by a
                 linear warm-up over the first epoch's steps, then a cosine to zero at the last step (per step);
                 the training set is reshuffled every epoch by a generator seeded with the run's seed.
"""

import argparse
import csv
import gzip
import math
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PIXEL_MEAN = 0.2860
PIXEL_DEVIATION = 0.3530


class ComposerGhostBatchNorm2d(nn.Module):
    """BatchNorm2d whose training batches are normalised in torch.chunk pieces, as Composer's GhostBatchNorm does."""

    def __init__(self, num_features, ghost_batch_size, momentum=0.1):
        super().__init__()
        self.ghost_batch_size = ghost_batch_size
        self.momentum = momentum
        self.batchnorm = nn.BatchNorm2d(num_features, momentum=momentum)

    def forward(self, x):
        if not self.training:
            return self.batchnorm(x)
        chunk_count = math.ceil(x.shape[0] / self.ghost_batch_size)
        self.batchnorm.momentum = self.momentum / chunk_count
        try:
            return torch.cat([self.batchnorm(chunk) for chunk in x.chunk(chunk_count)], dim=0)
        finally:
            self.batchnorm.momentum = self.momentum


def batch_norm(channels, ghost_batch_size):
    return ComposerGhostBatchNorm2d(channels, ghost_batch_size) if ghost_batch_size else nn.BatchNorm2d(channels)


class BasicBlock(nn.Module):
    def __init__(self, inputs, outputs, stride, ghost_batch_size):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, outputs, 3, stride, 1, bias=False)
        self.bn1 = batch_norm(outputs, ghost_batch_size)
        self.conv2 = nn.Conv2d(outputs, outputs, 3, 1, 1, bias=False)
        self.bn2 = batch_norm(outputs, ghost_batch_size)
        self.downsample = None
        if stride != 1 or inputs != outputs:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, outputs, 1, stride, bias=False), batch_norm(outputs, ghost_batch_size))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet20(nn.Module):
    def __init__(self, ghost_batch_size, num_classes=10, input_channels=1):
        super().__init__()
        self.conv1 = nn.Conv2d(input_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = batch_norm(16, ghost_batch_size)
        layers, inputs = [], 16
        for outputs, stride in ((16, 1), (32, 2), (64, 2)):
            layers.append(nn.Sequential(*[BasicBlock(inputs if i == 0 else outputs, outputs, stride if i == 0 else 1, ghost_batch_size) for i in range(3)]))
            inputs = outputs
        self.layer1, self.layer2, self.layer3 = layers
        self.fc = nn.Linear(64, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def read_idx(path):
    with gzip.open(path, "rb") as file:
        magic = struct.unpack(">I", file.read(4))[0]
        dims = struct.unpack(">" + "I" * (magic & 0xFF), file.read(4 * (magic & 0xFF)))
        return torch.frombuffer(bytearray(file.read()), dtype=torch.uint8).reshape(dims)


def load_split(folder, prefix):
    images = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")).float().div_(255)
    images = images.sub_(PIXEL_MEAN).div_(PIXEL_DEVIATION).unsqueeze(1)
    labels = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")).long()
    return images, labels


def learning_rate(step, peak, warmup_steps, total_steps):
    if step < warmup_steps:
        return peak * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return peak * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(model, peak):
    return torch.optim.SGD(model.parameters(), lr=peak, momentum=0.9, weight_decay=5e-4, nesterov=True)


def evaluate(model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), 1000):
            correct += (model(images[start:start + 1000]).argmax(1) == labels[start:start + 1000]).sum().item()
    return correct / len(images)


def accuracy(args):
    train_images, train_labels = load_split(args.data, "train")
    test_images, test_labels = load_split(args.data, "t10k")
    count = len(train_images)
    steps_per_epoch = math.ceil(count / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    peak = 0.1 * args.batch_size / 256
    new_file = not os.path.exists(args.output)
    with open(args.output, "a", newline="") as out:
        writer = csv.writer(out)
        if new_file:
            writer.writerow(["implementation", "seed", "ghost_batch_size", "epoch", "train_loss", "test_accuracy", "epoch_seconds"])
        for seed in args.seeds:
            for ghost in args.ghost_batch_sizes:
                torch.manual_seed(seed)
                model = ResNet20(ghost)
                optimizer = make_optimizer(model, peak)
                shuffle = torch.Generator().manual_seed(seed)
                step = 0
                for epoch in range(1, args.epochs + 1):
                    started = time.perf_counter()
                    model.train()
                    order = torch.randperm(count, generator=shuffle)
                    loss_sum = 0.0
                    for start in range(0, count, args.batch_size):
                        for group in optimizer.param_groups:
                            group["lr"] = learning_rate(step, peak, steps_per_epoch, total_steps)
                        indices = order[start:start + args.batch_size]
                        optimizer.zero_grad()
                        loss = F.cross_entropy(model(train_images[indices]), train_labels[indices])
                        loss.backward()
                        optimizer.step()
                        loss_sum += loss.item() * len(indices)
                        step += 1
                    test_accuracy = evaluate(model, test_images, test_labels)
                    seconds = time.perf_counter() - started
                    writer.writerow(["pytorch-composer", seed, ghost or "none", epoch, f"{loss_sum / count:.5f}", f"{test_accuracy:.4f}", f"{seconds:.1f}"])
                    out.flush()
                    print(f"seed {seed}  ghost {ghost or 'none':>4}  epoch {epoch}  loss {loss_sum / count:.4f}  test accuracy {test_accuracy:.2%}  {seconds:.0f} s", flush=True)


def speed(args):
    """Training images/s of one shuffled epoch over the first --images training images, as `bench peer-speed` measures ours.

    Plain BatchNorm and Composer's chunk loop; one warm-up epoch, then the median of --rounds epochs. The learning rate
    is fixed at 0.1 (the schedule does not change the cost of a step). Prints one CSV row per configuration.
    """
    images, labels = load_split(args.data, "train")
    images, labels = images[:args.images].contiguous(), labels[:args.images].contiguous()
    writer = csv.writer(open(args.output, "a", newline="") if args.output else sys.stdout)
    for batch in args.batch_sizes:
        for ghost in args.ghost_batch_sizes:
            torch.manual_seed(1)
            model = ResNet20(ghost)
            model.train()
            optimizer = make_optimizer(model, 0.1)
            shuffle = torch.Generator().manual_seed(1)
            timings = []
            for epoch in range(1 + args.rounds):
                started = time.perf_counter()
                order = torch.randperm(len(images), generator=shuffle)
                for start in range(0, len(images), batch):
                    indices = order[start:start + batch]
                    optimizer.zero_grad()
                    F.cross_entropy(model(images[indices]), labels[indices]).backward()
                    optimizer.step()
                if epoch > 0:
                    timings.append(time.perf_counter() - started)
            median = sorted(timings)[len(timings) // 2]
            writer.writerow(["pytorch", batch, ghost or "none", f"{len(images) / median:.1f}"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads (libtorch's); the machine has 2 cores")
    commands = parser.add_subparsers(dest="command", required=True)
    study = commands.add_parser("accuracy", help="the accuracy study's recipe, one CSV row per epoch")
    study.add_argument("--data", default="../shared/data/fashion-mnist", help="folder of Fashion-MNIST's IDX .gz files")
    study.add_argument("--output", default="artifacts/accuracy/accuracy.csv",
                       help="CSV file (appended to; the same columns as `./build.sh bench accuracy` writes)")
    study.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    study.add_argument("--ghost-batch-sizes", type=int, nargs="+", default=[0, 16, 32], help="0 = plain BatchNorm")
    study.add_argument("--epochs", type=int, default=3)
    study.add_argument("--batch-size", type=int, default=1024)
    timing = commands.add_parser("speed", help="training images/s of a shuffled epoch; CSV rows: implementation, batch, ghost, images/s")
    timing.add_argument("--data", default="../shared/data/fashion-mnist", help="folder of Fashion-MNIST's IDX .gz files")
    timing.add_argument("--images", type=int, default=4096, help="the first this many training images make the epoch")
    timing.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 1024])
    timing.add_argument("--ghost-batch-sizes", type=int, nargs="+", default=[0, 32], help="0 = plain BatchNorm")
    timing.add_argument("--rounds", type=int, default=3, help="timed epochs after one warm-up epoch")
    timing.add_argument("--output", help="CSV file to append to (default: standard output)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.command == "accuracy":
        os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
        accuracy(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
