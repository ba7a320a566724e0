using System.Globalization;
using System.Text.Json;
using Ghost.ML.Classification;
using Ghost.ML.Features;
using Ghost.ML.Torch;
using Google.Protobuf;
using Onnx;

namespace Ghost.ML.Export;

/// <summary>
/// Writes a trained classifier as one ONNX model that goes from what the user has to class probabilities: the
/// input preparation the transformer does before its network (pixel scaling, per-channel standardization), the
/// network with its BatchNorm folded, and a softmax. The class names and columns go into <c>metadata_props</c>.
/// </summary>
/// <remarks>
/// The graph has one input <see cref="OnnxExport.InputName"/>, float32 <c>[N, ..sample shape]</c> with a dynamic
/// <c>N</c>, and one output <see cref="ScoreOutputName"/>, float32 <c>[N, classes]</c>. For encoded images the input
/// is the decoded, resized pixels, 0–255, channel-major (grey: one channel; colour: R, G, B). For pixel or feature
/// vectors it is the vector's values, unchanged, reshaped to the sample shape.
/// </remarks>
internal static class ClassifierOnnxExport
{
    /// <summary>The name of the graph output: class probabilities [N, classes].</summary>
    public const string ScoreOutputName = "Score";

    /// <summary>Metadata key: the class names, a JSON array of strings; element i is class i (Score slot i, PredictedLabel key i + 1).</summary>
    public const string ClassNamesKey = "ghostml.class_names";

    /// <summary>Metadata key: the type of the label's values (e.g. "String", "Single"), as ML.NET names it.</summary>
    public const string LabelTypeKey = "ghostml.label_type";

    /// <summary>Metadata key: the label column the model was trained on.</summary>
    public const string LabelColumnKey = "ghostml.label_column";

    /// <summary>Metadata key: the feature column the model was trained on.</summary>
    public const string FeatureColumnKey = "ghostml.feature_column";

    /// <summary>Metadata key: what the input holds, <see cref="PixelsInput"/> or <see cref="FeaturesInput"/>.</summary>
    public const string InputKindKey = "ghostml.input";

    /// <summary>Metadata key: the architecture name, or "custom" for a user's network.</summary>
    public const string ArchitectureKey = "ghostml.architecture";

    /// <summary>Metadata key: samples per ghost batch the network was trained with (0: plain BatchNorm).</summary>
    public const string GhostBatchSizeKey = "ghostml.ghost_batch_size";

    /// <summary>Value of <see cref="InputKindKey"/>: decoded pixels 0–255, [N, C, H, W].</summary>
    public const string PixelsInput = "pixels_0_255";

    /// <summary>Value of <see cref="InputKindKey"/>: the feature vector's values reshaped to the sample shape.</summary>
    public const string FeaturesInput = "feature_vector";

    /// <summary>The largest value of a decoded pixel; the transformer divides by it before standardizing.</summary>
    private const float PixelScale = 255f;

    /// <summary>Writes <paramref name="classifier"/> to the file <paramref name="path"/>; nothing is written when the network cannot be exported.</summary>
    /// <exception cref="NotSupportedException">The network contains a module the exporter does not support.</exception>
    public static void Save(TrainedClassifier classifier, string path)
    {
        var onnx = CreateModel(classifier);
        using var file = File.Create(path);
        onnx.WriteTo(file);
    }

    /// <summary>Writes <paramref name="classifier"/> to <paramref name="stream"/>, which stays open.</summary>
    /// <exception cref="NotSupportedException">The network contains a module the exporter does not support.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable.</exception>
    public static void Save(TrainedClassifier classifier, Stream stream)
    {
        if (!stream.CanWrite)
        {
            throw new ArgumentException("The stream is not writable.", nameof(stream));
        }

        CreateModel(classifier).WriteTo(stream);
    }

    /// <summary>The ONNX model of <paramref name="classifier"/>: preparation, network, softmax, metadata.</summary>
    /// <exception cref="NotSupportedException">The network contains a module the exporter does not support.</exception>
    public static ModelProto CreateModel(TrainedClassifier classifier)
    {
        var input = classifier.Input;
        bool pixels = input.Format is EncodedImageFormat;
        var settings = new OnnxExportSettings
        {
            PrepareInput = (graph, value) => Prepare(graph, value, input, pixels),
            AppendOutput = (graph, logits) => graph.AddNode("Softmax", [logits], OnnxGraphBuilder.Attribute("axis", 1L)),
            OutputName = ScoreOutputName,
            Metadata = Metadata(classifier, pixels),
        };
        return OnnxExport.CreateModel(classifier.Network, input.Format.SampleShape, settings);
    }

    /// <summary>The nodes that do what <see cref="NetworkInput.Prepare"/> and the format's ToFloat do to stored samples.</summary>
    private static string Prepare(OnnxGraphBuilder graph, string value, NetworkInput input, bool pixels)
    {
        if (pixels)
        {
            value = graph.AddNode("Div", [value, graph.AddInitializer("pixel_scale", [PixelScale])]);
        }

        if (input.ChannelMean is not { } mean || input.ChannelStd is not { } std)
        {
            return value;
        }

        // [C, 1, 1, ...]: broadcast over the batch in front and the sample's dimensions after the channel.
        long[] channelShape = [mean.Length, .. Enumerable.Repeat(1L, input.Format.SampleShape.Length - 1)];
        var centred = graph.AddNode("Sub", [value, graph.AddInitializer("channel_mean", mean, channelShape)]);
        return graph.AddNode("Div", [centred, graph.AddInitializer("channel_std", std, channelShape)]);
    }

    private static Dictionary<string, string> Metadata(TrainedClassifier classifier, bool pixels)
    {
        var metadata = new Dictionary<string, string>
        {
            [LabelColumnKey] = classifier.Columns.Label,
            [FeatureColumnKey] = classifier.Columns.Feature,
            [InputKindKey] = pixels ? PixelsInput : FeaturesInput,
            [ArchitectureKey] = classifier.Architecture,
            [GhostBatchSizeKey] = classifier.GhostBatchSize.ToString(CultureInfo.InvariantCulture),
        };
        if (classifier.Classes is { Values: { } names, ValueType: { } type })
        {
            metadata[ClassNamesKey] = JsonSerializer.Serialize(names);
            metadata[LabelTypeKey] = type.ToString() ?? type.RawType.Name;
        }

        return metadata;
    }
}
