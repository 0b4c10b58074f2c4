//! The command line: `train`, `eval`, `classify`, `trace`, `bench`,
//! `inspect` (CONTRACTS.md). Bad input ends with one `error: …` line on
//! standard error and exit code 2; `--json` puts one JSON value on the last
//! line of stdout. Every file written is written atomically, never onto one
//! of the command's own inputs, and its folder is checked before any long
//! work starts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::data::dataset::{default_data_dir, files_in_dir, Dataset, Mnist, MnistRole};
use crate::data::preprocess::load_picture;
use crate::engine::network::Network;
use crate::engine::optim::{Optimizer, OptimizerKind};
use crate::engine::stepper::Stepper;
use crate::engine::Tensor;
use crate::io::file::{check_writable, refuse_input};
use crate::io::{load_model, save_model, write_trace};
use crate::presets::{defaults, network_from_preset, pretrained_model};
use crate::training::{evaluate, predictions, Trainer};

pub mod bench;
pub mod check;
pub mod class;
pub mod class_load;
pub mod inspect;

#[derive(Parser)]
#[command(
    name = "backprop-viz",
    version,
    about = "See, number by number, how a CNN's error travels back into its 3x3 filters."
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no command: the app, with these options.
    #[command(flatten)]
    gui: GuiArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Open the visualizer (the same as no command at all).
    Gui(GuiArgs),
    /// Train a network on MNIST and report its test accuracy.
    Train(TrainArgs),
    /// Measure a saved model's accuracy on the test set.
    Eval(EvalArgs),
    /// Say which digit each picture shows (PNG or JPEG, any size or polarity).
    Classify(ClassifyArgs),
    /// Record one training step on one batch, every number, as safetensors.
    Trace(TraceArgs),
    /// Measure training and inference speed.
    Bench(BenchArgs),
    /// Say what a model, trace or session file holds, checked as the app
    /// checks it when opening it.
    Inspect(InspectArgs),
    /// Check your own backward tensors against a trace; a mismatch is named
    /// as one common mistake, with the fix.
    Check(CheckArgs),
    /// Simulate a room of students against a live class and measure it:
    /// answer-to-tally latency, lost answers, the server's memory and CPU.
    ClassLoad(class_load::ClassLoadArgs),
    /// Serve a live class on the room's network until Ctrl+C: the browser
    /// app and its WebSocket; prints the join links as one JSON line.
    Class(class::ClassArgs),
    /// A class's answers per question and round, from its database
    /// (read-only): answered, correct, and the shift after a revote.
    ClassReport(class::ClassReportArgs),
}

#[derive(Args, Default)]
struct DataArg {
    /// Folder with MNIST-named IDX files (raw or .gz) [default: the MNIST that ships with the program].
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

#[derive(Args, Default)]
struct GuiArgs {
    #[command(flatten)]
    data: DataArg,
    /// Start from this model instead of the preset's random weights.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// `seed`, `lenet`, `strided`, `bn`, `updown`, or a JSON layer-list file.
    #[arg(long, value_name = "NAME|FILE.json")]
    preset: Option<String>,
    /// Continue a saved session (File → Save session…) at start.
    #[arg(long, value_name = "FILE")]
    session: Option<PathBuf>,
    /// Step the first batch and check these tensors of yours against it
    /// (.npy, .csv or .safetensors; as File → Check my backprop…).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    check: Vec<PathBuf>,
    /// Open a shared moment: `#preset=seed&seed=1&step=3&phase=backward:conv2…`
    /// (File → Share this moment copies one).
    #[arg(long, value_name = "LINK")]
    link: Option<String>,
}

#[derive(Args)]
struct TrainArgs {
    /// `seed`, `lenet`, `strided`, `bn`, `updown`, or a JSON file with a `layers` list.
    #[arg(long, default_value = defaults::PRESET, value_name = "NAME|FILE.json")]
    preset: String,
    #[arg(long, default_value_t = defaults::EPOCHS)]
    epochs: usize,
    #[arg(long, default_value_t = defaults::BATCH)]
    batch: usize,
    /// Learning rate.
    #[arg(long, default_value_t = defaults::LR)]
    lr: f32,
    /// sgd, momentum or adam.
    #[arg(long, default_value = defaults::OPTIMIZER.name())]
    optimizer: String,
    /// Conv layers keep their initial filters; only dense layers learn.
    #[arg(long)]
    freeze_conv: bool,
    /// Fixes the initial weights, the batch order and every number.
    #[arg(long, default_value_t = defaults::SEED)]
    seed: u64,
    /// Train on the first N training samples only.
    #[arg(long, value_name = "N")]
    train_limit: Option<usize>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Keep the learning rate constant [default: warm up linearly to --lr over the first quarter of the run, then decay linearly to 0].
    #[arg(long)]
    constant_lr: bool,
    /// Randomly shift, rotate, scale and thicken training digits.
    #[arg(long)]
    augment: bool,
    #[command(flatten)]
    data: DataArg,
    /// Write the trained model here (safetensors).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// Print the result as JSON on the last line.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct EvalArgs {
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    #[command(flatten)]
    data: DataArg,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ClassifyArgs {
    /// A model file [default: the pretrained model that ships with the program].
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("written").required(true).multiple(true).args(["out", "exercise"])))]
struct TraceArgs {
    #[arg(long, conflicts_with = "model", default_value = defaults::PRESET)]
    preset: String,
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    #[arg(long, default_value_t = defaults::SEED)]
    seed: u64,
    #[arg(long, default_value_t = defaults::BATCH)]
    batch: usize,
    #[command(flatten)]
    data: DataArg,
    /// The whole step, every number (the teacher's copy).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Also write an exercise here: the batch, the weights, each layer's
    /// output and the delta arriving from above, as .npy and safetensors,
    /// with instructions and a NumPy starter script (docs/exercise/).
    #[arg(long, value_name = "DIR")]
    exercise: Option<PathBuf>,
}

#[derive(Args)]
struct BenchArgs {
    #[arg(long)]
    json: bool,
    /// `tools/torch_bench.py`'s JSON line, saved to a file: each figure is
    /// then also given as a ratio to PyTorch's (`vs_pytorch`).
    #[arg(long, value_name = "TORCH.json")]
    torch: Option<PathBuf>,
}

#[derive(Args)]
struct CheckArgs {
    /// The trace of the step (`backprop-viz trace --out`).
    #[arg(long, value_name = "STEP.safetensors")]
    trace: PathBuf,
    /// Your tensors: .safetensors (named as in the trace), or one tensor per
    /// .npy / .csv file named after it (conv2.weight_grad.npy).
    #[arg(required = true, value_name = "MINE")]
    mine: Vec<PathBuf>,
    /// Print the result as JSON on the last line.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InspectArgs {
    /// A model, trace or session (safetensors).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Print the result as JSON on the last line.
    #[arg(long)]
    json: bool,
}

/// An error worth one line to the user: what and which file.
#[derive(Debug)]
pub struct UserError(pub String);

impl<E: std::fmt::Display> From<E> for UserError {
    fn from(e: E) -> UserError {
        UserError(e.to_string())
    }
}

type Result<T> = std::result::Result<T, UserError>;

fn fail(message: impl Into<String>) -> UserError {
    UserError(message.into())
}

pub fn main() -> ExitCode {
    // A write past the file-size limit (`ulimit -f`) then fails with an
    // error the save reports, instead of killing the process mid-write.
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to "ignore" before any other
    // thread exists; no handler runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help, --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap spreads its message over several lines (the error, the
            // missing arguments, a usage block); keep the first two parts on
            // one line, as every other error here.
            let text = e.render().to_string();
            let message: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
                .collect();
            eprintln!("{} (see --help)", message.join(" "));
            return ExitCode::from(2);
        }
    };
    let done = |r: Result<()>| r.map(|()| ExitCode::SUCCESS);
    let result = match cli.command {
        None => done(gui(cli.gui)),
        Some(Command::Gui(args)) => done(gui(args)),
        Some(Command::Train(args)) => done(train(args)),
        Some(Command::Eval(args)) => done(eval(args)),
        Some(Command::Classify(args)) => done(classify(args)),
        Some(Command::Trace(args)) => done(trace(args)),
        Some(Command::Bench(args)) => done(bench::run(args.json, args.torch.as_deref())),
        Some(Command::Inspect(args)) => done(inspect::run(&args.file, args.json)),
        Some(Command::Check(args)) => check::run(&args.trace, &args.mine, args.json),
        Some(Command::ClassLoad(args)) => class_load::run(args),
        Some(Command::Class(args)) => done(class::run(args)),
        Some(Command::ClassReport(args)) => done(class::report(args)),
    };
    match result {
        Ok(code) => code,
        Err(UserError(message)) => {
            // One line, and a readable one: names from files are cut where
            // they are quoted; this bounds what any path or message adds.
            let line = message.replace('\n', " ");
            eprintln!("error: {}", cut_line(&line));
            ExitCode::from(2)
        }
    }
}

/// The longest error line printed, in characters.
const MAX_ERROR_LINE: usize = 2000;

/// `line`, or its start and end around an ellipsis when longer than
/// [`MAX_ERROR_LINE`].
fn cut_line(line: &str) -> String {
    let n = line.chars().count();
    if n <= MAX_ERROR_LINE {
        return line.to_string();
    }
    let head: String = line.chars().take(MAX_ERROR_LINE - 200).collect();
    let tail: String = line.chars().skip(n - 200).collect();
    format!("{head} … {tail}")
}

fn gui(args: GuiArgs) -> Result<()> {
    crate::app::run(crate::app::GuiOptions {
        data: args.data.data,
        model: args.model,
        preset: args.preset,
        session: args.session,
        check: args.check,
        link: args.link,
    })
    .map_err(UserError)
}

pub(crate) fn load_data(dir: &Option<PathBuf>) -> Result<Mnist> {
    match dir {
        Some(dir) => Ok(files_in_dir(dir)?.load_all()?),
        None => Ok(crate::data::dataset::load_default()?),
    }
}

fn data_dir(dir: &Option<PathBuf>) -> PathBuf {
    dir.clone().unwrap_or_else(default_data_dir)
}

/// Before any work: `out` can be written, and is none of `inputs` (nor one
/// of the dataset's files).
fn check_output(out: &Path, inputs: &[&Path], data: &Option<PathBuf>) -> Result<()> {
    let dir = data_dir(data);
    let data_files: Vec<PathBuf> = MnistRole::ALL
        .iter()
        .flat_map(|role| role.candidate_names())
        .map(|name| dir.join(name))
        .collect();
    refuse_input(
        out,
        inputs
            .iter()
            .copied()
            .chain(data_files.iter().map(PathBuf::as_path)),
    )?;
    check_writable(out)?;
    Ok(())
}

/// Refuses a batch size the network cannot take (the memory limit).
fn check_batch(net: &Network, batch: usize) -> Result<()> {
    net.plan
        .check_batch(batch)
        .map_err(|e| fail(format!("--batch {batch}: {e}")))
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        if n == 0 {
            return Err(fail("--threads must be at least 1"));
        }
        builder = builder.num_threads(n);
    }
    builder
        .build()
        .map_err(|e| fail(format!("cannot start threads: {e}")))
}

fn train(args: TrainArgs) -> Result<()> {
    let kind = OptimizerKind::parse(&args.optimizer).ok_or_else(|| {
        fail(format!(
            "--optimizer {}: expected sgd, momentum or adam",
            args.optimizer
        ))
    })?;
    if !(args.lr.is_finite() && args.lr > 0.0) {
        return Err(fail(format!("--lr {}: must be a positive number", args.lr)));
    }
    if args.epochs == 0 {
        return Err(fail(
            "--epochs 0: nothing would be trained; give at least 1 epoch",
        ));
    }
    let net = network_from_preset(&args.preset, args.seed)?;
    check_batch(&net, args.batch)?;
    if let Some(save) = &args.save {
        check_output(save, &[Path::new(&args.preset)], &args.data.data)?;
    }
    let pool = thread_pool(args.threads)?;
    let mut data = load_data(&args.data.data)?;
    if let Some(limit) = args.train_limit {
        data.train.limit(limit);
    }
    if data.train.is_empty() {
        return Err(fail("no training samples (check --train-limit)"));
    }
    let (train_samples, test_samples) = (data.train.len(), data.test.len());

    let mut stepper = Stepper::new(net, Optimizer::new(kind, args.lr));
    stepper.freeze_conv = args.freeze_conv;
    let mut trainer = Trainer::new(stepper, Arc::new(data.train), args.batch, args.seed);
    trainer.augment = args.augment;
    if !args.constant_lr {
        trainer.schedule_over = Some(train_samples.saturating_mul(args.epochs));
    }

    let total = (train_samples as u64).saturating_mul(args.epochs as u64);
    let bar = indicatif::ProgressBar::new(total).with_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{bar:30}] {pos}/{len} samples  {msg}  ({elapsed}, eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let started = Instant::now();
    let mut final_loss = f32::NAN;
    let mut epoch_accuracy = Vec::new();
    let mut train_seconds = 0.0;
    let mut trained = 0usize;
    pool.install(|| {
        for epoch in 1..=args.epochs {
            bar.set_prefix(format!("epoch {epoch}/{}", args.epochs));
            let epoch_start = Instant::now();
            let mut recent = 0.0f32;
            trainer.run_epoch(|loss, samples| {
                final_loss = loss;
                trained += samples;
                recent = if recent == 0.0 {
                    loss
                } else {
                    0.95 * recent + 0.05 * loss
                };
                bar.inc(samples as u64);
                let rate = bar.position() as f64 / started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("loss {recent:.4}  {rate:.0} samples/s"));
            });
            train_seconds += epoch_start.elapsed().as_secs_f64();
            if !final_loss.is_finite() {
                // Every weight is now NaN or infinite: stop, save nothing.
                return;
            }
            let eval = evaluate(&trainer.stepper.network, &data.test);
            epoch_accuracy.push(eval.accuracy);
            bar.println(format!(
                "epoch {epoch}: loss {final_loss:.4}, test accuracy {:.2} %",
                eval.accuracy * 100.0
            ));
        }
    });
    bar.finish_and_clear();
    if !final_loss.is_finite() {
        return Err(fail(format!(
            "training diverged: the loss became {final_loss} at batch {} (epoch {}); nothing was saved; try a smaller --lr than {:?}",
            trainer.batches,
            trainer.epoch + 1,
            args.lr
        )));
    }
    let test_accuracy = epoch_accuracy.last().copied().unwrap_or(0.0);
    // Chance: always answering the test set's most common digit.
    let chance = chance_accuracy(&data.test);
    let diverged = test_accuracy <= chance + CHANCE_MARGIN;
    // A run that learned nothing never replaces the file it would save to
    // (a good model may be there).
    let saved = match &args.save {
        Some(path) if !diverged => {
            save_model(&trainer.stepper.network, path)?;
            println!("saved {}", path.display());
            Some(path.display().to_string())
        }
        _ => None,
    };
    if diverged {
        let not_saved = match &args.save {
            Some(path) => format!("; nothing was saved, {} is unchanged", path.display()),
            None => String::new(),
        };
        eprintln!(
            "warning: the trained network is no better than chance: {:.2} % on the test set, where always answering the most common digit scores {:.2} %; training failed (diverged or too large a learning rate): try a smaller --lr than {:?}{not_saved}",
            test_accuracy * 100.0,
            chance * 100.0,
            args.lr
        );
    }
    let samples_per_second = trained as f64 / train_seconds.max(1e-9);
    println!(
        "test accuracy {:.2} % after {} epochs ({} training samples, {:.1} s, {:.0} samples/s)",
        test_accuracy * 100.0,
        args.epochs,
        train_samples,
        train_seconds,
        samples_per_second
    );
    if args.json {
        println!(
            "{}",
            json!({
                "preset": args.preset,
                "epochs": args.epochs,
                "batch": args.batch,
                "lr": args.lr,
                "optimizer": kind.name(),
                "freeze_conv": args.freeze_conv,
                "seed": args.seed,
                "threads": rayon::ThreadPool::current_num_threads(&pool),
                "test_accuracy": test_accuracy,
                "epoch_test_accuracy": epoch_accuracy,
                "train_samples": train_samples,
                "test_samples": test_samples,
                "final_loss": final_loss,
                "seconds": train_seconds,
                "samples_per_second": samples_per_second,
                "diverged": diverged,
                "chance_accuracy": chance,
                "saved": saved,
            })
        );
    }
    Ok(())
}

/// How far above chance a run must end to count as having learned (one
/// percentage point: a network that learned anything at all is far above).
const CHANCE_MARGIN: f32 = 0.01;

/// The accuracy of always answering `data`'s most common digit (at least
/// one in ten).
fn chance_accuracy(data: &Dataset) -> f32 {
    let most = data.label_counts().into_iter().max().unwrap_or(0);
    (most as f32 / data.len().max(1) as f32).max(0.1)
}

fn eval(args: EvalArgs) -> Result<()> {
    let net = load_model(&args.model)?;
    let data = load_data(&args.data.data)?;
    let started = Instant::now();
    let result = evaluate(&net, &data.test);
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "test accuracy {:.2} % on {} samples ({:.2} s)",
        result.accuracy * 100.0,
        result.samples,
        seconds
    );
    if args.json {
        println!(
            "{}",
            json!({"test_accuracy": result.accuracy, "test_samples": result.samples, "test_loss": result.loss, "seconds": seconds})
        );
    }
    Ok(())
}

fn classify(args: ClassifyArgs) -> Result<()> {
    let net = match &args.model {
        Some(path) => load_model(path)?,
        None => pretrained_model(),
    };
    let mut results = Vec::new();
    for path in &args.images {
        let pixels = load_picture(path)?;
        let input =
            Tensor::from_shape_vec(vec![1, 1, 28, 28], pixels.to_vec()).expect("784 pixels");
        let probs = crate::engine::loss::softmax(&net.forward(&input)).into_dyn();
        let digit = predictions(&probs)[0];
        let probabilities: Vec<f32> = probs.iter().copied().collect();
        println!(
            "{}: {digit} ({:.1} %)",
            path.display(),
            probabilities[digit] * 100.0
        );
        results.push(json!({"file": path.display().to_string(), "digit": digit, "probabilities": probabilities}));
    }
    if args.json {
        println!("{}", serde_json::Value::Array(results));
    }
    Ok(())
}

fn trace(args: TraceArgs) -> Result<()> {
    let net = match &args.model {
        Some(path) => load_model(path)?,
        None => network_from_preset(&args.preset, args.seed)?,
    };
    check_batch(&net, args.batch)?;
    // A trace nothing could open (inspect, check, the app) is not written.
    let largest = crate::io::trace::largest_traced_batch(&net.plan);
    if args.batch > largest {
        return Err(fail(format!(
            "--batch {}: its trace would take about {:.2} GB, more than the {:.2} GB any trace is read back at (inspect, check, the app); the largest batch whose trace can be read is {largest}",
            args.batch,
            crate::io::trace::trace_file_bytes(&net.plan, args.batch) as f64 / 1e9,
            crate::io::file::MAX_FILE_BYTES as f64 / 1e9,
        )));
    }
    let inputs: Vec<&Path> = args
        .model
        .iter()
        .map(PathBuf::as_path)
        .chain(std::iter::once(Path::new(&args.preset)))
        .collect();
    if let Some(out) = &args.out {
        check_output(out, &inputs, &args.data.data)?;
    }
    if let Some(dir) = &args.exercise {
        // The exercise replaces its folder whole: it must hold none of the
        // files this command reads (model, preset, dataset) or writes.
        let data_dir = data_dir(&args.data.data);
        let data_files: Vec<PathBuf> = MnistRole::ALL
            .iter()
            .flat_map(|role| role.candidate_names())
            .map(|name| data_dir.join(name))
            .collect();
        let files: Vec<&Path> = inputs
            .iter()
            .copied()
            .chain(args.out.as_deref())
            .chain(data_files.iter().map(PathBuf::as_path))
            .collect();
        crate::check::exercise::check_exercise_folder(dir, &files)?;
        // Its new copy is made beside it, so the folder it is in must take one.
        let beside = dir.with_file_name(".backprop-viz-probe");
        check_output(&beside, &inputs, &args.data.data)?;
    }
    let data = load_data(&args.data.data)?;
    let mut stepper = Stepper::new(net, Optimizer::new(defaults::OPTIMIZER, defaults::LR));
    stepper.record = true;
    let mut trainer = Trainer::new(stepper, Arc::new(data.train), args.batch, args.seed);
    trainer.begin_batch();
    let loss = trainer.stepper.finish();
    let step = trainer.stepper.trace();
    // A diverged network's step holds NaN or infinities: `check` could
    // compare nothing against it, so neither a trace nor an exercise of it
    // is written.
    if let Some(name) = crate::io::trace::non_finite(step) {
        return Err(fail(format!(
            "the step's {name} holds NaN or infinite values (loss {loss}): this network diverges on that batch; nothing was written"
        )));
    }
    if let Some(out) = &args.out {
        write_trace(step, out)?;
        println!(
            "wrote {} (batch of {}, loss {loss:.4})",
            out.display(),
            step.batch_size()
        );
    }
    if let Some(dir) = &args.exercise {
        let names = crate::check::exercise::write_exercise(step, dir)?;
        println!(
            "wrote the exercise to {} ({} tensors as .npy and exercise.safetensors, README.md, starter.py)",
            dir.display(),
            names.len()
        );
    }
    Ok(())
}

/// Loads the training set only when a command needs it.
pub fn training_set(dir: &Option<PathBuf>) -> Result<Dataset> {
    Ok(load_data(dir)?.train)
}
