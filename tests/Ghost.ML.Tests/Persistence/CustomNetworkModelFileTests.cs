using Ghost.ML.Tests.Estimators;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Ghost.ML.Tests.Persistence;

/// <summary>mlContext.Model.Save / Load of GhostBatchNormTrainer models, whose network comes from the user's factory.</summary>
[TestClass]
public sealed class CustomNetworkModelFileTests : SingleThreadedTorchTests
{
    [TestMethod]
    public void TheFactoryRegisteredUnderTheModelsNameRebuildsIt()
    {
        string name = $"tests-mlp-{Guid.NewGuid():N}";
        var (model, data, scores) = TrainSmallModel(name);
        using var stream = new MemoryStream();
        new MLContext().Model.Save(model, data.Schema, stream);
        byte[] file = stream.ToArray();
        model.Dispose();

        var missing = ModelFileAssert.LoadFails<InvalidOperationException>(file);
        StringAssert.Contains(missing.Message, $"GhostBatchNormModelFactories.Register(\"{name}\", ");

        GhostBatchNormModelFactories.Register(name, GhostBatchNormTrainerTests.SmallModel);
        try
        {
            var loaded = new MLContext().Model.Load(new MemoryStream(file), out _);
            TestPipelines.AssertSameScores(scores, TestPipelines.Scores(loaded.Transform(data)), "rebuilt by the registered factory", tolerance: 0);
            ((IDisposable)loaded).Dispose();

            GhostBatchNormModelFactories.Register(name, classes => nn.Sequential(nn.Linear(PixelRow.Size, 8), nn.ReLU(), nn.Linear(8, classes)));
            var misfit = ModelFileAssert.LoadFails<InvalidDataException>(file);
            StringAssert.Contains(misfit.Message, "do not fit");
        }
        finally
        {
            Assert.IsTrue(GhostBatchNormModelFactories.Unregister(name));
        }
    }

    [TestMethod]
    public void TransformerLoadFindsTheRegisteredFactoryToo()
    {
        string name = $"tests-mlp-{Guid.NewGuid():N}";
        var (model, data, scores) = TrainSmallModel(name);
        using var stream = new MemoryStream();
        model.OfType<GhostBatchNormClassificationTransformer>().Single().Save(stream);
        model.Dispose();

        GhostBatchNormModelFactories.Register(name, GhostBatchNormTrainerTests.SmallModel);
        try
        {
            stream.Position = 0;
            using var loaded = GhostBatchNormClassificationTransformer.Load(new MLContext(), stream);
            var scored = new MLContext().Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(loaded.Transform(data)).Transform(loaded.Transform(data));
            TestPipelines.AssertSameScores(scores, TestPipelines.Scores(scored), "loaded alone", tolerance: 0);
        }
        finally
        {
            GhostBatchNormModelFactories.Unregister(name);
        }
    }

    [TestMethod]
    public void ModelSaveRefusesACustomNetworkWithoutAFactoryName()
    {
        var (model, data, _) = TrainSmallModel(factoryName: null);
        using var stream = new MemoryStream();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new MLContext().Model.Save(model, data.Schema, stream));

        StringAssert.Contains(error.Message, "GhostBatchNormTrainer.Options.ModelFactoryName");
        StringAssert.Contains(error.Message, "transformer.Save(path)");
        model.Dispose();
    }

    [TestMethod]
    public void NamesMustBeNames()
    {
        Assert.ThrowsExactly<ArgumentException>(() => GhostBatchNormModelFactories.Register(" ", GhostBatchNormTrainerTests.SmallModel));
        Assert.ThrowsExactly<ArgumentNullException>(() => GhostBatchNormModelFactories.Register("a", null!));
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.ModelFactoryName = "";
        var error = Assert.ThrowsExactly<ArgumentException>(() => new GhostBatchNormTrainer(new MLContext(), GhostBatchNormTrainerTests.SmallModel, options));
        Assert.AreEqual(nameof(GhostBatchNormTrainer.Options.ModelFactoryName), error.ParamName);
    }

    private static (TransformerChain<Microsoft.ML.Transforms.KeyToValueMappingTransformer> Model, IDataView Data, float[][] Scores) TrainSmallModel(string? factoryName)
    {
        var mlContext = new MLContext(seed: 1);
        var data = GhostBatchNormTrainerTests.KeyedPixels(mlContext, TestVectors.Rows(rowsPerClass: 8));
        var options = GhostBatchNormTrainerTests.FastOptions();
        options.Epoch = 1;
        options.ModelFactoryName = factoryName;
        var model = new GhostBatchNormTrainer(mlContext, GhostBatchNormTrainerTests.SmallModel, options)
            .Append(mlContext.Transforms.Conversion.MapKeyToValue("PredictedLabel"))
            .Fit(data);
        return (model, data, TestPipelines.Scores(model.Transform(data)));
    }
}
