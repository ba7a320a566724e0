using Ghost.ML.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Scoring;

/// <summary>
/// A trained network ready for inference, shared by every cursor and row mapper of a transformer. It is put in
/// evaluation mode once, here, and never switched back; forward passes run one at a time under inference mode.
/// </summary>
internal sealed class ScoringModel : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly Lock _forward = new();

    /// <summary>Takes ownership of <paramref name="model"/>.</summary>
    public ScoringModel(nn.Module<Tensor, Tensor> model, NetworkInput input, int classCount, Device device)
    {
        _model = model;
        _model.eval();
        Input = input;
        ClassCount = classCount;
        Device = device;
    }

    /// <summary>How stored samples become network input.</summary>
    public NetworkInput Input { get; }

    /// <summary>Number of classes.</summary>
    public int ClassCount { get; }

    /// <summary>The device the network is on.</summary>
    public Device Device { get; }

    /// <summary>The network, for saving.</summary>
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <summary>Class probabilities of a batch of stored samples, row-major [n × <see cref="ClassCount"/>].</summary>
    public float[] Score(Tensor samples)
    {
        using var scope = torch.NewDisposeScope();
        using var inference = torch.inference_mode();
        var input = Input.Prepare(samples, Device);
        Tensor logits;
        lock (_forward)
        {
            logits = _model.call(input);
        }

        return logits.softmax(1).to(ScalarType.Float32).cpu().data<float>().ToArray();
    }

    /// <inheritdoc/>
    public void Dispose() => _model.Dispose();
}
