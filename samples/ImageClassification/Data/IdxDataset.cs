using ImageClassification.Model;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ImageClassification.Data;

/// <summary>
/// Fashion-MNIST in IDX files: every image is encoded as PNG in memory, so the pipeline reads the same kind of
/// feature column as for image files, without writing 70,000 files to disk.
/// </summary>
internal sealed class IdxDataset : ImageDataset
{
    private readonly EncodedModelInput[] _train;
    private readonly EncodedModelInput[] _test;

    private IdxDataset(string folder, EncodedModelInput[] train, EncodedModelInput[] test)
    {
        Description = $"IDX data in {folder}";
        _train = train;
        _test = test;
        ClassNames = [.. train.Select(row => row.Label).Distinct().Order(StringComparer.Ordinal)];
    }

    public override string Description { get; }

    public override IReadOnlyList<string> ClassNames { get; }

    public override int TrainCount => _train.Length;

    public override int TestCount => _test.Length;

    /// <summary>Reads <c>train-*</c> and <c>t10k-*</c> from a folder in Fashion-MNIST's layout and encodes the images.</summary>
    /// <exception cref="SampleInputException">The folder or a file is missing or malformed.</exception>
    public static IdxDataset Load(string folder) =>
        new(folder, Encode(FashionMnist.ReadTrain(folder)), Encode(FashionMnist.ReadTest(folder)));

    public override IDataView LoadTrain(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(_train);

    public override IDataView LoadTest(MLContext mlContext) => mlContext.Data.LoadFromEnumerable(_test);

    public override IEstimator<ITransformer> LoadImageBytes(MLContext mlContext) => new EstimatorChain<ITransformer>();

    private static EncodedModelInput[] Encode(IdxImageSet images)
    {
        var rows = new EncodedModelInput[images.Count];
        Parallel.For(0, images.Count, i => rows[i] = new EncodedModelInput
        {
            Label = FashionMnist.ClassName(images.LabelAt(i)),
            ImagePath = images.NameOf(i),
            ImageBytes = GreyPng.Encode(images.PixelsAt(i), images.Width, images.Height),
        });
        return rows;
    }
}
