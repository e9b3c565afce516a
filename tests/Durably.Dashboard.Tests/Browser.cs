using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using OpenQA.Selenium.Support.UI;

namespace Durably.Dashboard.Tests;

/// <summary>
/// Debian's headless Chromium driven through its chromedriver (no browser download), with screenshots saved under
/// <c>artifacts/screenshots</c> of the repository (or <c>DURABLY_SCREENSHOTS</c>) for a person to look at.
/// </summary>
public sealed class Browser : IDisposable
{
    private readonly ChromeDriver _driver;
    private readonly Uri _address;

    public Browser(Uri address)
    {
        _address = address;
        var chromium = Find("DURABLY_TEST_CHROMIUM", "chromium", "chromium-browser");
        var chromedriver = Find("DURABLY_TEST_CHROMEDRIVER", "chromedriver");
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(chromedriver)!, Path.GetFileName(chromedriver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        var options = new ChromeOptions { BinaryLocation = chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1000", "--lang=en-US");
        _driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
    }

    public IWebDriver Driver => _driver;

    public static string ScreenshotDirectory { get; } = Environment.GetEnvironmentVariable("DURABLY_SCREENSHOTS") is { Length: > 0 } configured
        ? configured
        : Path.Combine(RepositoryRoot(), "artifacts", "screenshots");

    public void Go(string path) => _driver.Navigate().GoToUrl(new Uri(_address, path));

    public IWebElement Find(By by) => Wait(TimeSpan.FromSeconds(15)).Until(d => d.FindElement(by));

    /// <summary>
    /// A wait that looks again when an element it read went away — a page navigating (a form posted, a redirect) while
    /// the condition reads the old page — rather than failing the test.
    /// </summary>
    private WebDriverWait Wait(TimeSpan timeout)
    {
        var wait = new WebDriverWait(_driver, timeout);
        wait.IgnoreExceptionTypes(typeof(StaleElementReferenceException), typeof(NoSuchElementException));
        return wait;
    }

    public void Until(Func<IWebDriver, bool> condition, string what)
    {
        try
        {
            Wait(TimeSpan.FromSeconds(30)).Until(condition);
        }
        catch (WebDriverTimeoutException ex)
        {
            throw new TimeoutException($"{what}; the page at {_driver.Url} shows: {Shorten(_driver.FindElement(By.TagName("body")).Text)}", ex);
        }
    }

    /// <summary>Saves a screenshot of the whole page as <paramref name="name"/>.png and returns its path.</summary>
    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotDirectory);
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        // The page's full height, so a long timeline is on the picture.
        var height = Convert.ToInt32(_driver.ExecuteScript("return Math.max(document.body.scrollHeight, 600);"), System.Globalization.CultureInfo.InvariantCulture);
        _driver.Manage().Window.Size = new System.Drawing.Size(1360, Math.Min(height + 40, 6000));
        _driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        _driver.Quit();
        _driver.Dispose();
    }

    private static string Shorten(string text) => text.Length > 600 ? text[..600] + "…" : text;

    private static string Find(string variable, params string[] names)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured)
        {
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"{variable} names '{configured}', which does not exist.");
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Append("/usr/bin").Append("/usr/lib/chromium"))
        {
            foreach (var name in names)
            {
                var candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new FileNotFoundException(
            $"{names[0]} was not found on PATH: the dashboard's browser tests drive Debian's chromium through chromium-driver. Install both (apt-get install chromium chromium-driver; .ci/run does), or set {variable}.");
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Sdk.sln")))
            {
                return directory.FullName;
            }
        }

        return AppContext.BaseDirectory;
    }
}
