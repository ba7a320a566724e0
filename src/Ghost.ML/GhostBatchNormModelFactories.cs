using System.Collections.Concurrent;
using static TorchSharp.torch;

namespace Ghost.ML;

/// <summary>
/// Network factories by name, for models of <see cref="GhostBatchNormTrainer"/> loaded with <c>mlContext.Model.Load</c>
/// or <see cref="GhostBatchNormClassificationTransformer.Load(Microsoft.ML.MLContext, string, string)"/>: a saved model holds
/// the weights and the factory's name (<see cref="GhostBatchNormTrainer.Options.ModelFactoryName"/>), and the
/// network is rebuilt by the factory registered under that name.
/// </summary>
/// <example>
/// <code>
/// // Once at start-up, before loading, with the factory the model was trained with:
/// GhostBatchNormModelFactories.Register("my-mlp", classes => nn.Sequential(nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, classes)));
/// var model = mlContext.Model.Load("model.zip", out var inputSchema);
/// </code>
/// </example>
public static class GhostBatchNormModelFactories
{
    private static readonly ConcurrentDictionary<string, Func<int, nn.Module<Tensor, Tensor>>> s_factories = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="factory"/> under <paramref name="name"/>, replacing any factory registered under it.</summary>
    /// <param name="name">The name the model was trained with (<see cref="GhostBatchNormTrainer.Options.ModelFactoryName"/>).</param>
    /// <param name="factory">Builds the untrained network on the CPU for a class count, as at training time.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is null.</exception>
    public static void Register(string name, Func<int, nn.Module<Tensor, Tensor>> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        s_factories[name] = factory;
    }

    /// <summary>Removes the factory registered under <paramref name="name"/>.</summary>
    /// <returns>Whether a factory was registered under that name.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null, empty or white space.</exception>
    public static bool Unregister(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return s_factories.TryRemove(name, out _);
    }

    /// <summary>The factory registered under <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">None is registered: the message says what to register.</exception>
    internal static Func<int, nn.Module<Tensor, Tensor>> Get(string name) =>
        s_factories.TryGetValue(name, out var factory)
            ? factory
            : throw new InvalidOperationException(
                $"The model's network was built by the factory named \"{name}\" (GhostBatchNormTrainer.Options.ModelFactoryName), and none is registered under that name. "
                + $"Before loading, call {nameof(GhostBatchNormModelFactories)}.{nameof(Register)}(\"{name}\", classCount => /* the network the model was trained with */), "
                + "or load the transformer alone with GhostBatchNormClassificationTransformer.Load(mlContext, path, modelFactory).");
}
