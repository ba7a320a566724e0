using Ghost.ML.Torch.Models;

namespace ImageClassification;

/// <summary>What the sample trains on and how; the command-line options map one to one onto these.</summary>
internal sealed record SampleSettings
{
    /// <summary>The Fashion-MNIST subset shipped with the sample, copied next to the executable.</summary>
    public static string EmbeddedDataFolder { get; } = Path.Combine(AppContext.BaseDirectory, "assets", "fashion-mnist-subset");

    /// <summary>A folder with one subfolder of images per class; null = the embedded data set.</summary>
    public string? DataFolder { get; init; }

    /// <summary>A folder of IDX files in Fashion-MNIST's layout, used instead of <see cref="DataFolder"/>.</summary>
    public string? IdxFolder { get; init; }

    public int Epochs { get; init; } = 8;

    public int BatchSize { get; init; } = 64;

    /// <summary>Rows per ghost batch; 0 trains with plain BatchNorm.</summary>
    public int GhostBatchSize { get; init; } = 16;

    public ResNetArchitecture Architecture { get; init; } = ResNetArchitecture.ResNet20;

    /// <summary>Images are resized to ImageSize × ImageSize pixels.</summary>
    public int ImageSize { get; init; } = 28;

    /// <summary>Where model.zip, the chart and the comparison model go.</summary>
    public string OutputFolder { get; init; } = Path.Combine("artifacts", "sample");

    public int Seed { get; init; } = 1;

    /// <summary>
    /// A weights file to start from (PyTorch, safetensors, TorchSharp, or a model.zip of an earlier run) for
    /// <see cref="Architecture"/>; null trains from scratch.
    /// </summary>
    public string? PretrainedWeightsPath { get; init; }

    /// <summary>Also train with plain BatchNorm (GhostBatchSize 0) and compare the two.</summary>
    public bool Compare { get; init; }

    /// <summary>Also write each model as ONNX (model.onnx) and measure its test accuracy with ONNX Runtime.</summary>
    public bool ExportOnnx { get; init; }
}
