using Ghost.ML.Classification;
using Ghost.ML.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Scoring;

/// <summary>
/// A trained network ready for inference, shared by every cursor and row mapper of a transformer. It is put in
/// evaluation mode once, here, and never switched back; forward passes run one at a time under inference mode.
/// </summary>
internal sealed class ScoringModel
{
    private readonly nn.Module<Tensor, Tensor> _network;
    private readonly Lock _forward = new();

    /// <summary>Scores with <paramref name="classifier"/>'s network, which stays owned by the classifier.</summary>
    public ScoringModel(TrainedClassifier classifier)
    {
        _network = classifier.Network;
        _network.eval();
        Input = classifier.Input;
        ClassCount = classifier.Classes.Count;
        Device = classifier.Device;
    }

    /// <summary>How stored samples become network input.</summary>
    public NetworkInput Input { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>The device the network is on.</summary>
    public Device Device { get; }

    /// <summary>Class probabilities of a batch of stored samples, row-major [n × <see cref="ClassCount"/>].</summary>
    public float[] Score(Tensor samples)
    {
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var input = Input.Prepare(samples, Device);
        Tensor logits;
        lock (_forward)
        {
            logits = _network.call(input);
        }

        return logits.softmax(1).to(ScalarType.Float32).cpu().data<float>().ToArray();
    }
}
