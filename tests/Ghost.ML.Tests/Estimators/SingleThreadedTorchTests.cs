using TorchSharp;

namespace Ghost.ML.Tests.Estimators;

/// <summary>
/// Runs a test class with one libtorch thread. The estimator tests train tiny networks, where two OpenMP threads
/// only add barriers, and on a busy machine a spinning barrier waiting for a descheduled thread costs several times
/// the work itself (measured: 34 s instead of 5 s for the same test).
/// </summary>
public abstract class SingleThreadedTorchTests
{
    private static int s_previousThreads;

    [ClassInitialize(InheritanceBehavior.BeforeEachDerivedClass)]
    public static void UseOneThread(TestContext context)
    {
        s_previousThreads = torch.get_num_threads();
        torch.set_num_threads(1);
    }

    [ClassCleanup(InheritanceBehavior.BeforeEachDerivedClass)]
    public static void RestoreThreads() => torch.set_num_threads(s_previousThreads);
}
