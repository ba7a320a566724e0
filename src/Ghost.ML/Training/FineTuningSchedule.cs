using System.Globalization;
using Ghost.ML.Torch.Models;
using Microsoft.ML.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Ghost.ML.Training;

/// <summary>
/// Which parameters train at which rate: the classifier (the network's last Linear layer) at the scheduled learning
/// rate, the backbone (every other parameter) at that rate times a factor, and not at all for the first epochs when
/// it is frozen.
/// </summary>
internal sealed class FineTuningSchedule
{
    /// <summary>Backbone learning-rate factor when pretrained weights are given and the option is not set.</summary>
    public const float PretrainedBackboneFactor = 0.1f;

    private readonly Parameter[] _backbone;
    private readonly Parameter[] _head;
    private readonly double _backboneFactor;
    private readonly int _freezeEpochs;

    private FineTuningSchedule(Parameter[] backbone, Parameter[] head, double backboneFactor, int freezeEpochs)
    {
        _backbone = backbone;
        _head = head;
        _backboneFactor = backboneFactor;
        _freezeEpochs = freezeEpochs;
    }

    /// <summary>Settles the schedule for <paramref name="model"/> and logs it when it is not plain training.</summary>
    /// <param name="model">The network.</param>
    /// <param name="options">The settings; unset fine-tuning options take their defaults from the start.</param>
    /// <param name="start">How the network started: pretrained or not, new classifier or not.</param>
    /// <param name="channel">Where the schedule is logged.</param>
    public static FineTuningSchedule For(nn.Module model, GhostBatchNormTrainingOptions options, PretrainedStartResult? start, IChannel channel)
    {
        int freeze = options.FreezeBackboneEpochs ?? (start?.ClassifierReplaced == true ? 1 : 0);
        double factor = options.BackboneLearningRateFactor ?? (start is null ? 1 : PretrainedBackboneFactor);
        var parameters = model.named_parameters().ToList();
        var classifier = PretrainedWeights.ClassifierName(model);
        if (classifier is null)
        {
            if (freeze > 0 || factor != 1)
            {
                channel.Warning(MessageSensitivity.None, "The network has no Linear classifier: FreezeBackboneEpochs and BackboneLearningRateFactor do not apply, every parameter trains at the learning rate.");
            }

            return new FineTuningSchedule([], parameters.Select(named => named.parameter).ToArray(), 1, 0);
        }

        bool InHead(string name) => name.StartsWith(classifier + ".", StringComparison.Ordinal);
        var schedule = new FineTuningSchedule(
            parameters.Where(named => !InHead(named.name)).Select(named => named.parameter).ToArray(),
            parameters.Where(named => InHead(named.name)).Select(named => named.parameter).ToArray(),
            factor, freeze);
        if (freeze > 0 || factor != 1)
        {
            channel.Info(MessageSensitivity.None, string.Create(CultureInfo.InvariantCulture,
                $"Fine-tuning: only the classifier '{classifier}' trains for the first {freeze} epoch(s) (FreezeBackboneEpochs); the backbone trains at {factor:G3} × the learning rate (BackboneLearningRateFactor)."));
        }

        return schedule;
    }

    /// <summary>SGD over the backbone and the classifier as two parameter groups.</summary>
    public optim.Optimizer CreateOptimizer(GhostBatchNormTrainingOptions options)
    {
        var groups = new[] { _backbone, _head }
            .Where(group => group.Length > 0)
            .Select(group => new SGD.ParamGroup(group, new SGD.Options { LearningRate = options.LearningRate }));
        return torch.optim.SGD(groups, options.LearningRate, options.Momentum, weight_decay: options.WeightDecay, nesterov: options.Nesterov);
    }

    /// <summary>Freezes the backbone during the first epochs and thaws it after; a frozen parameter gets no gradient, so SGD leaves it (and its momentum) alone.</summary>
    public void BeginEpoch(int epoch)
    {
        bool trains = epoch > _freezeEpochs;
        foreach (var parameter in _backbone)
        {
            parameter.requires_grad = trains;
        }
    }

    /// <summary>Lets every parameter take gradients again, as the trained network is handed on.</summary>
    public void EndTraining() => BeginEpoch(int.MaxValue);

    /// <summary>Sets the step's learning rate: the scheduled rate for the classifier, times the factor for the backbone.</summary>
    public void SetLearningRate(optim.Optimizer optimizer, double learningRate)
    {
        var groups = optimizer.ParamGroups.ToList();
        for (int i = 0; i < groups.Count; i++)
        {
            bool backbone = _backbone.Length > 0 && i == 0;
            groups[i].LearningRate = backbone ? learningRate * _backboneFactor : learningRate;
        }
    }
}
