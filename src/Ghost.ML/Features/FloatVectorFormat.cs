using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Ghost.ML.Features;

/// <summary>Float vectors already holding the samples, each reshaped to <see cref="SampleShape"/> (e.g. C×H×W pixels).</summary>
internal sealed class FloatVectorFormat : FeatureFormat
{
    private readonly long[] _shape;

    /// <summary>Creates the format for samples of the given shape.</summary>
    public FloatVectorFormat(IReadOnlyList<long> shape)
    {
        _shape = [.. shape];
    }

    /// <inheritdoc/>
    public override long[] SampleShape => [.. _shape];

    /// <inheritdoc/>
    public override ScalarType StoredType => ScalarType.Float32;

    /// <inheritdoc/>
    public override string Expected => $"a vector of {SampleSize} Single values (shape [{string.Join(", ", _shape)}])";

    /// <inheritdoc/>
    public override bool Accepts(SchemaShape.Column.VectorKind kind, DataViewType itemType) =>
        kind != SchemaShape.Column.VectorKind.Scalar && itemType == NumberDataViewType.Single;

    /// <inheritdoc/>
    public override FeatureBatchReader CreateReader(DataViewRow row, DataViewSchema.Column column) => new Reader(this, row, column);

    /// <inheritdoc/>
    public override Tensor ToFloat(Tensor stored) => stored;

    private sealed class Reader : FeatureBatchReader
    {
        private readonly FloatVectorFormat _format;
        private readonly ValueGetter<VBuffer<float>> _getter;
        private readonly List<float> _values = [];
        private VBuffer<float> _buffer;

        public Reader(FloatVectorFormat format, DataViewRow row, DataViewSchema.Column column)
            : base(row, column)
        {
            _format = format;
            _getter = row.GetGetter<VBuffer<float>>(column);
        }

        public override FeatureFormat Format => _format;

        protected override void AddValue()
        {
            _getter(ref _buffer);
            if (_buffer.Length != _format.SampleSize)
            {
                throw BadValue(Row.Position, $"expected {_format.Expected}; the vector has {_buffer.Length} values.");
            }

            int start = _values.Count;
            if (_buffer.IsDense)
            {
                _values.AddRange(_buffer.GetValues());
            }
            else
            {
                _values.AddRange(_buffer.DenseValues());
            }

            CheckFinite(start);
        }

        /// <summary>
        /// A NaN or infinite input makes the loss NaN, which would be reported as a diverged learning rate: name the
        /// value instead.
        /// </summary>
        private void CheckFinite(int start)
        {
            for (int i = start; i < _values.Count; i++)
            {
                if (!float.IsFinite(_values[i]))
                {
                    throw BadValue(Row.Position, string.Create(CultureInfo.InvariantCulture,
                        $"value {i - start} is {_values[i]}; every value must be a finite number."));
                }
            }
        }

        protected override Tensor TakeValues(IReadOnlyList<long> positions)
        {
            var batch = torch.tensor(_values.ToArray(), [positions.Count, .. _format._shape]);
            _values.Clear();
            return batch;
        }
    }
}
