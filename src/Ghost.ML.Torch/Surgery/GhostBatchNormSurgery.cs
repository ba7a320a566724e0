using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Torch;

/// <summary>
/// The functional API: turns the BatchNorm layers of any TorchSharp model into Ghost BatchNorm layers and back.
/// </summary>
/// <example>
/// <code>
/// var model = torchvision.models.resnet18(num_classes: 10);
/// var optimizer = torch.optim.SGD(model.parameters(), 0.1);
/// int replaced = model.ApplyGhostBatchNorm(ghostBatchSize: 32, optimizer);
/// </code>
/// </example>
public static class GhostBatchNormSurgery
{
    /// <summary>
    /// Replaces every <see cref="BatchNorm1d"/>, <see cref="BatchNorm2d"/> and <see cref="BatchNorm3d"/> anywhere in
    /// <paramref name="model"/> by its ghost counterpart; layers that are already ghost layers get the new ghost size.
    /// </summary>
    /// <remarks>
    /// The ghost layers take over the very same parameter and buffer tensors, hyper-parameters, train/eval mode and
    /// device, so state_dict keys do not change and an optimizer created before the surgery keeps training them.
    /// The layer is replaced both where the model registers it and in the fields its <c>forward</c> reads (also
    /// private readonly ones, as in TorchVision's ResNet), in <c>Sequential</c>, <c>ModuleList</c> and
    /// <c>ModuleDict</c>. A field declared with the sealed type <c>BatchNorm2d</c> cannot hold the replacement; the
    /// call then fails before changing anything.
    /// </remarks>
    /// <param name="model">The model to change in place.</param>
    /// <param name="ghostBatchSize">Samples per ghost batch; at least 1.</param>
    /// <param name="optimizers">
    /// Optimizers over the model's parameters. Parameters keep their identity, so they need no change; they are
    /// accepted for parity with Composer's <c>apply_ghost_batchnorm</c> and checked for null.
    /// </param>
    /// <returns>The number of BatchNorm layers replaced.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or an optimizer is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ghostBatchSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="model"/> is itself a BatchNorm layer.</exception>
    /// <exception cref="InvalidOperationException">A layer is held where it cannot be replaced.</exception>
    public static int ApplyGhostBatchNorm(this nn.Module model, int ghostBatchSize, params optim.Optimizer[] optimizers)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ghostBatchSize);
        ArgumentNullException.ThrowIfNull(optimizers);
        foreach (var optimizer in optimizers)
        {
            ArgumentNullException.ThrowIfNull(optimizer, nameof(optimizers));
        }

        if (model is GhostBatchNorm ghost)
        {
            ghost.GhostBatchSize = ghostBatchSize;
            return 0;
        }

        return Rewrite(model, child => child switch
        {
            GhostBatchNorm existing => SetGhostBatchSize(existing, ghostBatchSize),
            BatchNorm1d bn => MoveState(bn, new GhostBatchNorm1d(bn.num_features, ghostBatchSize, bn.eps, bn.momentum, bn.affine, bn.track_running_stats, StateDevice(bn), StateType(bn))),
            BatchNorm2d bn => MoveState(bn, new GhostBatchNorm2d(bn.num_features, ghostBatchSize, bn.eps, bn.momentum, bn.affine, bn.track_running_stats, StateDevice(bn), StateType(bn))),
            BatchNorm3d bn => MoveState(bn, new GhostBatchNorm3d(bn.num_features, ghostBatchSize, bn.eps, bn.momentum, bn.affine, bn.track_running_stats, StateDevice(bn), StateType(bn))),
            _ => null,
        });
    }

    /// <summary>
    /// Turns every Ghost BatchNorm layer in <paramref name="model"/> back into plain BatchNorm, sharing the same
    /// tensors: for export, for evaluation elsewhere, or for a baseline run.
    /// </summary>
    /// <param name="model">The model to change in place.</param>
    /// <returns>The number of layers turned back.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="model"/> is itself a Ghost BatchNorm layer.</exception>
    public static int RemoveGhostBatchNorm(this nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Rewrite(model, child => child switch
        {
            GhostBatchNorm1d g => MoveState(g, nn.BatchNorm1d(g.num_features, g.eps, g.momentum ?? 0.0, g.affine, g.track_running_stats, StateDevice(g), StateType(g))),
            GhostBatchNorm2d g => MoveState(g, nn.BatchNorm2d(g.num_features, g.eps, g.momentum ?? 0.0, g.affine, g.track_running_stats, StateDevice(g), StateType(g))),
            GhostBatchNorm3d g => MoveState(g, nn.BatchNorm3d(g.num_features, g.eps, g.momentum ?? 0.0, g.affine, g.track_running_stats, StateDevice(g), StateType(g))),
            _ => null,
        });
    }

    /// <summary>
    /// Walks the module tree and replaces each child for which <paramref name="replacementFor"/> returns a module
    /// other than the child itself. A layer reachable from several parents is replaced by one shared module.
    /// </summary>
    private static int Rewrite(nn.Module model, Func<nn.Module, nn.Module?> replacementFor)
    {
        if (model is BatchNorm && replacementFor(model) is { } rootReplacement && !ReferenceEquals(rootReplacement, model))
        {
            throw new ArgumentException(
                "The model is itself a normalization layer; surgery replaces layers inside a model. Wrap it in a container such as Sequential.",
                nameof(model));
        }

        // Plan every replacement and check that each can be made before changing anything.
        var replacements = new Dictionary<nn.Module, nn.Module>(ReferenceEqualityComparer.Instance);
        var edits = new List<(nn.Module Parent, nn.Module Child)>();
        foreach (var parent in model.named_modules().Select(named => named.module).Prepend(model).Distinct(ReferenceEqualityComparer.Instance).Cast<nn.Module>())
        {
            foreach (var (_, child) in parent.named_children())
            {
                if (!replacements.TryGetValue(child, out var replacement))
                {
                    replacement = replacementFor(child);
                    if (replacement is null || ReferenceEquals(replacement, child))
                    {
                        continue;
                    }

                    replacements.Add(child, replacement);
                }

                ModuleReplacement.EnsureReplaceable(parent, child, replacement);
                edits.Add((parent, child));
            }
        }

        foreach (var (parent, child) in edits)
        {
            ModuleReplacement.Replace(parent, child, replacements[child]);
        }

        foreach (var old in replacements.Keys)
        {
            // The old layer no longer owns its tensors: its finalizer must not dispose them.
            GC.SuppressFinalize(old);
        }

        return replacements.Count;
    }

    private static nn.Module SetGhostBatchSize(GhostBatchNorm layer, int ghostBatchSize)
    {
        layer.GhostBatchSize = ghostBatchSize;
        return layer;
    }

    /// <summary>Hands the parameters, buffers and mode of <paramref name="source"/> to <paramref name="target"/>.</summary>
    private static nn.Module MoveState(BatchNorm source, BatchNorm target)
    {
        target.momentum = source.momentum;
        if (source.affine)
        {
            target.weight = source.weight;
            target.bias = source.bias;
        }

        if (source.track_running_stats)
        {
            target.running_mean = source.running_mean;
            target.running_var = source.running_var;
            target.num_batches_tracked = source.num_batches_tracked;
        }

        target.train(source.training);
        return target;
    }

    private static Device? StateDevice(BatchNorm layer) => (layer.running_mean ?? layer.bias)?.device;

    private static ScalarType? StateType(BatchNorm layer) => (layer.running_mean ?? layer.bias)?.dtype;
}
