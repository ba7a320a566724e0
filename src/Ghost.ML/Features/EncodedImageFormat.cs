using Ghost.ML.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>
/// Encoded image files (the bytes <c>LoadRawImageBytes</c> produces, any size, grey or colour), decoded and resized
/// to <see cref="Width"/>×<see cref="Height"/> and kept as bytes; the network sees them scaled to [0, 1].
/// </summary>
internal sealed class EncodedImageFormat : FeatureFormat
{
    /// <summary>Creates the format.</summary>
    /// <param name="width">Width the images are resized to.</param>
    /// <param name="height">Height the images are resized to.</param>
    /// <param name="channels">1 (grey) or 3 (RGB), or null to decide from the training set: grey when every image is.</param>
    public EncodedImageFormat(int width, int height, int? channels)
    {
        Width = width;
        Height = height;
        Channels = channels;
    }

    /// <summary>Width the images are resized to.</summary>
    public int Width { get; }

    /// <summary>Height the images are resized to.</summary>
    public int Height { get; }

    /// <summary>1 (grey) or 3 (RGB); null until the training set has decided.</summary>
    public int? Channels { get; }

    /// <inheritdoc/>
    public override long[] SampleShape => [Channels ?? 3, Height, Width];

    /// <inheritdoc/>
    public override ScalarType StoredType => ScalarType.Byte;

    /// <inheritdoc/>
    public override string Expected => "encoded image bytes (Vector<Byte>, as LoadRawImageBytes produces)";

    /// <inheritdoc/>
    public override bool Accepts(SchemaShape.Column.VectorKind kind, DataViewType itemType) =>
        kind != SchemaShape.Column.VectorKind.Scalar && itemType.RawType == typeof(byte) && itemType is not KeyDataViewType;

    /// <inheritdoc/>
    public override FeatureBatchReader CreateReader(DataViewRow row, DataViewSchema.Column column) => new Reader(this, row, column);

    /// <inheritdoc/>
    public override Tensor ToFloat(Tensor stored) => stored.to(ScalarType.Float32).div_(255);

    private sealed class Reader : FeatureBatchReader
    {
        private readonly EncodedImageFormat _format;
        private readonly ValueGetter<VBuffer<byte>> _getter;
        private readonly List<byte[]> _pending = [];
        private VBuffer<byte> _buffer;
        private bool _allGreyscale = true;

        public Reader(EncodedImageFormat format, DataViewRow row, DataViewSchema.Column column)
            : base(row, column)
        {
            _format = format;
            _getter = row.GetGetter<VBuffer<byte>>(column);
        }

        public override FeatureFormat Format =>
            _format.Channels is null ? new EncodedImageFormat(_format.Width, _format.Height, _allGreyscale ? 1 : 3) : _format;

        public override Tensor Settle(Tensor samples) =>
            _format.Channels is null && _allGreyscale ? samples.narrow(1, 0, 1).contiguous() : samples;

        protected override void AddValue()
        {
            _getter(ref _buffer);
            _pending.Add(_buffer.DenseValues().ToArray());
        }

        protected override Tensor TakeValues(IReadOnlyList<long> positions)
        {
            long[] shape = _format.SampleShape;
            int channels = (int)shape[0];
            int sampleSize = channels * _format.Height * _format.Width;
            var pixels = new byte[_pending.Count * sampleSize];
            var greyscale = new bool[_pending.Count];
            var errors = new InvalidDataException?[_pending.Count];
            Parallel.For(0, _pending.Count, i =>
            {
                try
                {
                    greyscale[i] = _pending[i].Length > 0
                        ? ImageDecoder.Decode(_pending[i], _format.Width, _format.Height, channels, pixels.AsSpan(i * sampleSize, sampleSize))
                        : throw new InvalidDataException("The image is empty (is the file missing?).");
                }
                catch (InvalidDataException e)
                {
                    errors[i] = BadValue(positions[i], e.Message, e);
                }
            });
            _pending.Clear();
            if (Array.Find(errors, error => error is not null) is { } firstError)
            {
                throw firstError;
            }

            _allGreyscale &= Array.TrueForAll(greyscale, grey => grey);
            return torch.tensor(pixels, [positions.Count, .. shape]);
        }
    }
}
