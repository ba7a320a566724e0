using System.Reflection;
using Microsoft.ML.Runtime;

namespace Ghost.ML.Hosting;

/// <summary>
/// Cancellation of one Fit: the options' <see cref="CancellationToken"/>, or <c>MLContext.CancelExecution()</c>, which
/// marks every host of the context as cancelled (as ML.NET's own trainers see it through <c>CheckAlive</c>).
/// </summary>
/// <remarks>
/// ML.NET 6 exposes neither <c>CancelExecution</c> nor the flag it sets: its hosts implement the internal interface
/// <c>Microsoft.ML.Runtime.ICancelable</c>, whose <c>IsCanceled</c> is read here through reflection, the only place
/// Ghost.ML does so. A host without that interface (another ML.NET) is never seen as cancelled; the token still works.
/// </remarks>
internal sealed class FitCancellation
{
    private const string CancelableInterface = "Microsoft.ML.Runtime.ICancelable";

    private readonly IHost _host;
    private readonly PropertyInfo? _isCanceled;

    /// <summary>Watches <paramref name="host"/> and <paramref name="token"/>.</summary>
    public FitCancellation(IHost host, CancellationToken token)
    {
        _host = host;
        Token = token;
        _isCanceled = host.GetType().GetInterfaces()
            .FirstOrDefault(type => type.FullName == CancelableInterface)?
            .GetProperty("IsCanceled", typeof(bool));
    }

    /// <summary>The options' token.</summary>
    public CancellationToken Token { get; }

    /// <summary>Throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public void ThrowIfCancellationRequested()
    {
        Token.ThrowIfCancellationRequested();
        if (_isCanceled?.GetValue(_host) is true)
        {
            throw new OperationCanceledException("Training was cancelled with MLContext.CancelExecution().");
        }
    }
}
