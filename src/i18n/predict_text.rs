//! Translations for Predict mode (`app/predict.rs`): the questions, the
//! answers and the verdicts.

pub const TEXT: &[(&str, &str)] = &[
    ("Predict before each reveal", "Предсказывать перед показом"),
    (
        "Each backward step and the update arrive covered: answer a question about them first (always on in the guided lesson)",
        "Каждый шаг обратного прохода и обновление сначала закрыты: сперва ответьте на вопрос о них (в уроке включено всегда)",
    ),
    (
        "Predict mode: reveal the covered step for the whole class",
        "Режим предсказаний: открыть закрытый шаг для всего класса",
    ),
    (
        "First, predict: answer the question in the view, then press Show me (or Space, or PgDn).",
        "Сначала предскажите: ответьте на вопрос на схеме, затем нажмите «Показать» (или Пробел, или PgDn).",
    ),
    ("Predict first: {phase}", "Сначала предскажите: {phase}"),
    (
        "The result is covered until you answer. Space or V reveals it for the whole class.",
        "Результат закрыт, пока вы не ответите. Пробел или V открывает его для всего класса.",
    ),
    ("the backward step through {layer}", "обратный шаг через {layer}"),
    ("the update", "обновление весов"),
    ("Show me", "Показать"),
    ("+ positive", "+ положительный"),
    ("− negative", "− отрицательный"),
    ("larger", "больше"),
    ("smaller", "меньше"),
    ("positive", "положительный"),
    ("negative", "отрицательный"),
    ("Larger", "Больше"),
    ("Smaller", "Меньше"),
    ("the ReLU's input x", "вход ReLU x"),
    ("the pooling's input x", "вход пулинга x"),
    ("None are blocked", "Ничего не перекрыто"),
    ("{n} cells marked as blocked", "Отмечено перекрытых клеток: {n}"),
    ("✔ Right.", "✔ Верно."),
    ("✘ Not this time.", "✘ На этот раз нет."),
    ("Revealed.", "Открыто для всех."),
    ("Explain it", "Объяснить"),
    ("Your prediction", "Ваше предсказание"),
    ("nothing has been loaded yet", "ещё ничего не загружено"),
    (
        "the MNIST built into the program",
        "MNIST, встроенный в программу",
    ),
    (
        "only the built-in networks (seed, lenet, strided) can be shared as a link",
        "ссылкой можно поделиться только для встроенных сетей (seed, lenet, strided)",
    ),
    (
        "the link is longer than {n} characters",
        "ссылка длиннее {n} символов",
    ),
    (
        "the link's {key}={value} is not valid",
        "в ссылке неверное {key}={value}",
    ),
    (
        "{layer}'s windows overlap. Cell ({r}, {c}) of its input (sample {n}, channel {ch}) won {k} windows, whose deltas are {deltas}. What delta does that cell get handed down?",
        "Окна слоя {layer} перекрываются. Клетка ({r}, {c}) его входа (пример {n}, канал {ch}) победила в {k} окнах, их дельты: {deltas}. Какую дельту эта клетка получит?",
    ),
    (
        "{sum}: the sum of what every window it won sends it. The backward pass adds (+=) into the delta handed down; writing each window's delta over the last (=) keeps only one, the mistake check calls pool-overwrote.",
        "{sum}: сумма того, что шлёт ей каждое выигранное окно. Обратный проход прибавляет (+=) к передаваемой дельте; запись дельты каждого окна поверх прежней (=) оставляет лишь одну — эту ошибку check называет pool-overwrote.",
    ),
    (
        "{layer} averages {size}×{size} windows. Window ({i}, {j}) (sample {n}, channel {ch}) receives the delta {d}. What does each of its {cells} cells get handed down?",
        "{layer} усредняет окна {size}×{size}. Окно ({i}, {j}) (пример {n}, канал {ch}) получает дельту {d}. Что получит каждая из его {cells} клеток?",
    ),
    (
        "{share}: the delta divided by {cells}. Each cell counted 1/{cells} in the window's mean, so a change of the mean reaches it with that weight; copying the whole delta to every cell is the mistake check calls avgpool-copied.",
        "{share}: дельта, делённая на {cells}. Каждая клетка входила в среднее окна с весом 1/{cells}, с этим весом к ней и приходит изменение; копирование всей дельты в каждую клетку — ошибка, которую check называет avgpool-copied.",
    ),
    (
        "{layer} moves {s} cells at a time. To hand the delta down, D is dilated before the full convolution: how many zeros go between two neighbouring cells of D?",
        "{layer} шагает через {s} клетки. Чтобы передать дельту вниз, D разреживают перед полной свёрткой: сколько нулей встаёт между двумя соседними клетками D?",
    ),
    (
        "{layer}'s {k}×{k} filter has its taps {dl} cells apart. Handing the delta down, rot180(F) slides over the padded D: what square of D's cells does it cover at once?",
        "У фильтра {k}×{k} слоя {layer} отводы стоят через {dl} клетки. При передаче дельты вниз rot180(F) скользит по D с рамкой: какой квадрат клеток D он накрывает за раз?",
    ),
    (
        "{z}: the layer's output cells were read {s} input cells apart, so in the backward pass D's cells land {s} apart too, the {z} between them zeros (no window started there). Then it is a full convolution with rot180(F), as at stride 1.",
        "{z}: выходные клетки слоя читали вход через {s} клетки, поэтому в обратном проходе клетки D тоже встают через {s}, а {z} между ними — нули (там не начиналось ни одно окно). Дальше — полная свёртка с rot180(F), как при шаге 1.",
    ),
    (
        "{span}×{span}: {k} taps {dl} apart reach {dl}·({k} − 1) + 1 = {span} cells, with {h} hole(s) between taps. The backward pass goes through the same holes: a hole never touched an input cell, so no delta goes back through it.",
        "{span}×{span}: {k} отвода через {dl} охватывают {dl}·({k} − 1) + 1 = {span} клеток, с {h} пропуском(ами) между отводами. Обратный проход идёт через те же пропуски: пропуск не касался ни одной клетки входа, и дельта через него не возвращается.",
    ),
    (
        "the link's preset {value} is not one of seed, lenet, strided",
        "сеть {value} в ссылке — не seed, не lenet и не strided",
    ),
    ("the link has an unknown field {key}", "в ссылке неизвестное поле {key}"),
    ("Share this moment (copy the link)", "Поделиться этим моментом (скопировать ссылку)"),
    (
        "A link that replays training to exactly this batch, phase, sample and cell: --link on another machine opens it",
        "Ссылка, по которой обучение воспроизводится ровно до этого батча, фазы, примера и клетки: её открывает --link на другом компьютере",
    ),
    (
        "Copied the link to this moment: {link}",
        "Ссылка на этот момент скопирована: {link}",
    ),
    ("Save my predictions…", "Сохранить мои предсказания…"),
    ("Save my predictions", "Сохранить мои предсказания"),
    (
        "Every prediction you answered, right or wrong, as a small JSON file to hand in (it stays on your machine)",
        "Все ваши ответы-предсказания, верные и неверные, в небольшом JSON-файле, чтобы сдать его (файл остаётся у вас)",
    ),
    ("Open a class's predictions…", "Открыть предсказания класса…"),
    (
        "Several learners' prediction files: per step, how many predicted right",
        "Файлы предсказаний нескольких учеников: сколько предсказали верно на каждом шаге",
    ),
    ("The learners' prediction records", "Файлы предсказаний учеников"),
    ("No file dialog is available here.", "Окно выбора файла здесь недоступно."),
    ("The class's predictions", "Предсказания класса"),
    (
        "{files} records. Per step: how many predictions were right, wrong, or revealed before an answer.",
        "Файлов: {files}. По шагам: сколько предсказаний верны, неверны или открыты до ответа.",
    ),
    ("step", "шаг"),
    ("question", "вопрос"),
    ("right", "верно"),
    ("wrong", "неверно"),
    ("revealed", "открыто"),
    ("learners", "учеников"),
    (
        "is not a predictions record ({error})",
        "это не файл предсказаний ({error})",
    ),
    (
        "is a {format} file, version {version}; expected {expected}, version 1",
        "это файл {format}, версия {version}; ожидался {expected}, версия 1",
    ),
    (
        "holds a record that this program does not write ({phase})",
        "содержит запись, которую эта программа не пишет ({phase})",
    ),
    (
        "Predict first: after this one step, which digit will the network answer?",
        "Сначала предскажите: какую цифру ответит сеть после этого одного шага?",
    ),
    (
        "✔ Right: after one step on your drawing the network answers {answer} ({sure} %), as you predicted.",
        "✔ Верно: после одного шага на вашем рисунке сеть отвечает {answer} ({sure} %), как вы и предсказали.",
    ),
    (
        "✘ You predicted {guess}; after one step on your drawing the network answers {answer} ({sure} %). One small step moves the weights only a little.",
        "✘ Вы предсказали {guess}; после одного шага на вашем рисунке сеть отвечает {answer} ({sure} %). Один маленький шаг сдвигает веса совсем немного.",
    ),
    (
        "{layer}'s dF{index} for the whole batch (Σ over the samples of x · D): will it be positive or negative?",
        "dF{index} слоя {layer} для всего батча (Σ по примерам от x · D): он будет положительным или отрицательным?",
    ),
    (
        "What shape will the delta that {layer} hands down have, for one sample?",
        "Какой формы будет дельта, которую {layer} передаёт вниз, для одного примера?",
    ),
    (
        "{layer} multiplies the delta from above by its mask. Which cells will it block (set to 0)? Click them on its input x (sample {n}, channel {c}), or answer that none are blocked.",
        "{layer} умножает дельту сверху на свою маску. Какие клетки он перекроет (обнулит)? Щёлкните их на его входе x (пример {n}, канал {c}) или ответьте, что ничего не перекрыто.",
    ),
    (
        "The delta of window ({i}, {j}) arrives at {layer}. Which cell of the window (outlined on its input) will receive it? Click it.",
        "В {layer} приходит дельта окна ({i}, {j}). Какая клетка этого окна (обведено на входе) её получит? Щёлкните её.",
    ),
    (
        "The update moves every weight against its gradient. Will {layer}'s weight {index} get larger or smaller?",
        "Обновление сдвигает каждый вес против его градиента. Вес {index} слоя {layer} станет больше или меньше?",
    ),
    (
        "dF{index} = {value}: {sign}. It is the sum of the products x · D over all samples; Explain it lists the largest.",
        "dF{index} = {value}: {sign}. Это сумма произведений x · D по всем примерам; «Объяснить» покажет наибольшие.",
    ),
    (
        "{shape} per sample: a layer's delta always has the shape of its input, since it is the gradient with respect to that input.",
        "{shape} на пример: дельта слоя всегда имеет форму его входа, ведь это градиент по этому входу.",
    ),
    (
        "None: every input value is positive here, so ReLU passes everything.",
        "Ничего: здесь все входные значения положительны, и ReLU пропускает всё.",
    ),
    (
        "{n} cells: exactly those whose input x was ≤ 0. The mask depends on the forward pass, not on the delta.",
        "{n} клеток: ровно те, где вход x был ≤ 0. Маска зависит от прямого прохода, а не от дельты.",
    ),
    (
        "Cell ({r}, {c}): the one that held the window's maximum in the forward pass; the window's other cells get 0.",
        "Клетка ({r}, {c}): та, где в прямом проходе был максимум окна; остальные клетки окна получают 0.",
    ),
    (
        "{direction}: from {before} to {after}. Its gradient is {grad}, and the step goes against it (F ← F − η · dF).",
        "{direction}: с {before} до {after}. Его градиент {grad}, а шаг идёт против градиента (F ← F − η · dF).",
    ),
    (
        "the link's batch={batch} is too large: {error}",
        "в ссылке слишком большой батч batch={batch}: {error}",
    ),
    (
        "the link's step={step} with batch={batch} would replay {samples} samples; at most {limit} are replayed",
        "ссылка с step={step} и batch={batch} воспроизводила бы {samples} примеров; воспроизводится не больше {limit}",
    ),
    (
        "the link's cell={cell} is not valid: {why}",
        "в ссылке неверная клетка cell={cell}: {why}",
    ),
    (
        "{tensor} is not computed yet at that phase",
        "{tensor} на этой фазе ещё не вычислено",
    ),
    ("the network has no layer {layer}", "в сети нет слоя {layer}"),
    ("{layer} has no weights, so no dF", "у {layer} нет весов, а значит, нет и dF"),
    (
        "{tensor} takes {n} indices (its shape is [{shape}])",
        "число индексов у {tensor} — {n} (его форма [{shape}])",
    ),
    (
        "[{index}] lies outside {tensor}, whose shape is [{shape}]",
        "[{index}] лежит вне {tensor}, форма которого [{shape}]",
    ),
    ("y of {layer}", "y слоя {layer}"),
    ("D of {layer}", "D слоя {layer}"),
    ("dF of {layer}", "dF слоя {layer}"),
    (
        "Stopped replaying the link after {done} of {total} batches: the shared moment was not reached.",
        "Воспроизведение ссылки остановлено после {done} из {total} батчей: момент из ссылки не достигнут.",
    ),
    ("Stop replaying a link where it is", "Остановить воспроизведение ссылки там, где оно сейчас"),
    (
        "Replaying the link: batch {done} of {total}",
        "Воспроизводится ссылка: батч {done} из {total}",
    ),
    ("Stop (Esc)", "Стоп (Esc)"),
    (
        "Stop replaying: training stays at the batch reached",
        "Остановить воспроизведение: обучение останется на достигнутом батче",
    ),
    ("its window, enlarged", "его окно, крупно"),
    (
        "No: dβ = Σ D, whatever γ is",
        "Нет: dβ = Σ D, каким бы ни был γ",
    ),
    (
        "Yes: dβ = γ · Σ D",
        "Да: dβ = γ · Σ D",
    ),
    (
        "Yes: dβ = Σ D / γ",
        "Да: dβ = Σ D / γ",
    ),
    (
        "No: β is added after γ has scaled, so a change of β reaches the output one for one: dβ = Σ D over the batch and the map. γ scales the delta handed down (γ/s), not dβ.",
        "Нет: β прибавляется после умножения на γ, поэтому изменение β доходит до выхода один к одному: dβ = Σ D по батчу и карте. γ масштабирует переданную вниз дельту (γ/s), а не dβ.",
    ),
    (
        "{layer} scales the normalised input by γ and shifts it by β. Does dβ (channel {c}) depend on γ?",
        "{layer} умножает нормированный вход на γ и сдвигает на β. Зависит ли dβ (канал {c}) от γ?",
    ),
    (
        "In {layer}, moving any x of channel {c} moves the channel's mean, which every cell was normalised by. That term of D_below is the same in every cell of the channel and every sample: what is it?",
        "В {layer} сдвиг любого x канала {c} сдвигает среднее канала, которым нормировалась каждая клетка. Это слагаемое D_below одинаково во всех клетках канала и во всех примерах: чему оно равно?",
    ),
    (
        "{layer} is a transposed conv with stride {s}. Its backward pass reads D through F: how many cells apart are the windows it reads?",
        "{layer} — транспонированная свёртка с шагом {s}. Её обратный проход читает D через F: на сколько клеток отстоят друг от друга читаемые окна?",
    ),
    (
        "{value}: −γ/s · dβ/m, with m every value of the channel in the batch (N·H·W), not the batch size; leaving it out is the mistake check calls bn-mean-term-missing.",
        "{value}: −γ/s · dβ/m, где m — все значения канала в батче (N·H·W), а не размер батча; если это слагаемое пропустить, получится ошибка, которую check называет bn-mean-term-missing.",
    ),
    (
        "{s}: in the forward pass input cell a landed at output {s}·a, so going back each input cell reads D's window {s} cells on from its neighbour's: the forward pass of a stride-{s} conv, no flipping.",
        "{s}: в прямом проходе клетка входа a легла на выход {s}·a, поэтому на обратном пути каждая клетка входа читает окно D на {s} клетки дальше, чем соседняя: прямой проход свёртки с шагом {s}, без поворота.",
    ),
];
