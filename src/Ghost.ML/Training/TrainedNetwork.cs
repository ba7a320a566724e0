using Ghost.ML.Features;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>What the training loop produces: the network, how its input is prepared, and where it lives.</summary>
/// <param name="Model">The trained network (ghost layers in place when a ghost batch size was set).</param>
/// <param name="Input">How stored samples become the network's input.</param>
/// <param name="Device">The device the network is on.</param>
internal sealed record TrainedNetwork(nn.Module<Tensor, Tensor> Model, NetworkInput Input, Device Device);
