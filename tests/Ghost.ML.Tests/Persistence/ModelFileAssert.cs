using System.Reflection;
using Microsoft.ML;

namespace Ghost.ML.Tests.Persistence;

/// <summary>Assertions about loading ML.NET model files.</summary>
internal static class ModelFileAssert
{
    /// <summary>
    /// The exception Model.Load fails with. ML.NET calls every loader through reflection, so a loader's exception
    /// reaches the caller inside TargetInvocationExceptions (one per nesting level), as it does for ML.NET's own.
    /// </summary>
    public static TException LoadFails<TException>(byte[] model)
        where TException : Exception =>
        LoadFails<TException>(() => new MLContext().Model.Load(new MemoryStream(model), out _));

    /// <inheritdoc cref="LoadFails{TException}(byte[])"/>
    public static TException LoadFails<TException>(Action load)
        where TException : Exception
    {
        var thrown = Assert.Throws<Exception>(load);
        while (thrown is TargetInvocationException { InnerException: { } inner })
        {
            thrown = inner;
        }

        return Assert.IsInstanceOfType<TException>(thrown);
    }
}
