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
        /// <summary>Encoded images gathered for the next chunk, in arrays rented from the shared pool (each value's length given).</summary>
        private readonly List<(byte[] Array, int Length)> _pending = [];
        private VBuffer<byte> _buffer;
        private byte[] _pixels = [];
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
            var encoded = System.Buffers.ArrayPool<byte>.Shared.Rent(_buffer.Length);
            _buffer.CopyTo(encoded);
            _pending.Add((encoded, _buffer.Length));
        }

        protected override Tensor TakeValues(IReadOnlyList<long> positions)
        {
            long[] shape = _format.SampleShape;
            int channels = (int)shape[0];
            int sampleSize = channels * _format.Height * _format.Width;
            // Reused from chunk to chunk: a new array per chunk would be large-object-heap garbage, which piles up to
            // hundreds of MiB before a full collection frees it.
            if (_pixels.Length != _pending.Count * sampleSize)
            {
                _pixels = new byte[_pending.Count * sampleSize];
            }

            var pixels = _pixels;
            var greyscale = new bool[_pending.Count];
            var errors = new InvalidDataException?[_pending.Count];
            Parallel.For(0, _pending.Count, i =>
            {
                try
                {
                    var (encoded, length) = _pending[i];
                    greyscale[i] = length > 0
                        ? ImageDecoder.Decode(encoded.AsSpan(0, length), _format.Width, _format.Height, channels, pixels.AsSpan(i * sampleSize, sampleSize))
                        : throw new InvalidDataException("The image is empty (is the file missing?).");
                }
                catch (InvalidDataException e)
                {
                    errors[i] = BadValue(positions[i], e.Message, e);
                }
            });
            foreach (var (encoded, _) in _pending)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(encoded);
            }

            _pending.Clear();
            if (Array.Find(errors, error => error is not null) is { } firstError)
            {
                throw firstError;
            }

            _allGreyscale &= Array.TrueForAll(greyscale, grey => grey);
            // torch.tensor would keep a managed copy of the array as the tensor's storage; a view of the array
            // cloned into native memory leaves no managed garbage behind.
            using var view = torch.from_array(pixels);
            using var shaped = view.view([positions.Count, .. shape]);
            return shaped.clone();
        }
    }
}
