//! Translations for checking a student's own backprop: the verdicts and
//! the named mistakes (`check/`), the files handed in (`io/handin.rs`) and
//! the panel that shows them (`app/panels/checked.rs`).

pub const TEXT: &[(&str, &str)] = &[
    // The panel and the File menu.
    ("Export exercise…", "Экспорт упражнения…"),
    (
        "What a student needs to work this step's backward pass out by hand (inputs, weights, outputs, the delta from above; not the answers), with a NumPy starter",
        "Всё, что нужно студенту, чтобы посчитать обратный проход этого шага вручную (входы, веса, выходы, дельта сверху; без ответов), и заготовка на NumPy",
    ),
    ("Check my backprop…", "Проверить мой backprop…"),
    (
        "Your own dF, deltas… (.npy, .csv or .safetensors) against this step's: what matches, and the mistake named (or drop the files on the window)",
        "Ваши dF, дельты… (.npy, .csv или .safetensors) против этого шага: что совпало, а где ошибка — с её названием (или перетащите файлы в окно)",
    ),
    (
        "Your tensors: .npy, .csv or .safetensors named as in the trace",
        "Ваши тензоры: .npy, .csv или .safetensors с именами как в трассе",
    ),
    ("tensors", "тензоры"),
    (
        "No file dialog is available here: drop your .npy or .csv files on the window instead.",
        "Окно выбора файла здесь недоступно: перетащите файлы .npy или .csv в окно программы.",
    ),
    ("A folder for the exercise", "Папка для упражнения"),
    (
        "No file dialog is available here: use backprop-viz trace --exercise DIR.",
        "Окно выбора файла здесь недоступно: используйте backprop-viz trace --exercise ПАПКА.",
    ),
    (
        "Wrote the exercise to {dir}: the step's inputs, weights, outputs and deltas from above, with instructions and starter.py.",
        "Упражнение записано в {dir}: входы, веса, выходы и дельты сверху этого шага, инструкция и starter.py.",
    ),
    (
        "All {n} of your tensors match the engine's.",
        "Все ваши тензоры ({n}) совпали с посчитанными движком.",
    ),
    (
        "{ok} of {n} of your tensors match; {name} does not (see the panel below).",
        "Совпало {ok} из {n} ваших тензоров; {name} — нет (см. панель внизу).",
    ),
    (
        "Your backprop is checked against the step on screen: step through its backward pass first (Step batch), then check.",
        "Ваш backprop сверяется с шагом на экране: сначала пройдите его обратный проход («Шаг по батчу»), потом проверяйте.",
    ),
    ("Your backprop, checked", "Ваш backprop: проверка"),
    (
        "The bug, found: the backprop with it against without it",
        "Ошибка найдена: backprop с ней и без неё",
    ),
    (
        "{ok} of {n} match the engine's numbers for batch {batch}.",
        "Совпало {ok} из {n} с числами движка для батча {batch}.",
    ),
    ("Close", "Закрыть"),
    ("Fold", "Свернуть"),
    ("Unfold", "Развернуть"),
    ("sample", "пример"),
    ("channel", "канал"),
    ("out channel", "выходной канал"),
    ("in channel", "входной канал"),
    ("index", "индекс"),
    ("row", "строка"),
    (
        "Explain the most wrong cell in the views",
        "Объяснить самую неверную клетку на схеме",
    ),
    (
        "The views have moved on to another batch since this check",
        "С момента проверки схема перешла к другому батчу",
    ),
    ("the engine's", "движок"),
    ("without the bug", "без ошибки"),
    ("with the bug", "с ошибкой"),
    ("with − without", "с ошибкой − без"),
    ("Find the bug (for the teacher)", "Найдите ошибку (для учителя)"),
    (
        "Switch on one mistake in the app's own backward pass. Nothing on screen shows it: training misbehaves, and the class finds the layer with the gradient check (click a dF or dW cell, then check it by finite differences) and names the mistake. This window is never shown in projector mode.",
        "Включите одну ошибку в собственный обратный проход программы. На экране её не видно: обучение идёт не так, и класс находит слой проверкой градиента (щёлкните клетку dF или dW, затем проверьте её конечными разностями) и называет ошибку. В режиме проектора это окно не показывается.",
    ),
    (
        "They disagree: the backward pass is wrong at this layer or above it.",
        "Они расходятся: обратный проход ошибочен на этом слое или выше.",
    ),
    (
        "They agree: backpropagation's number is right here.",
        "Они совпадают: здесь число обратного распространения верное.",
    ),
    ("✍ Try it yourself", "✍ Попробуйте сами"),
    ("As a dense layer (Wᵀ · δ)", "Как полносвязный слой (Wᵀ · δ)"),
    (
        "The layer as its matrix W: the rule you used for FC layers, Wᵀ · δ, is the full convolution with rot180(F)",
        "Слой как его матрица W: правило полносвязных слоёв, Wᵀ · δ, и есть полная свёртка с rot180(F)",
    ),
    (
        "The matrix view needs this layer's backward step: step to it first.",
        "Матричному виду нужен обратный шаг этого слоя: сначала дойдите до него.",
    ),
    (
        "{layer} as a dense layer: W has a row per output cell ({outs}) and a column per input pixel ({pixels}); each row is the filter, shifted. The delta handed down is Wᵀ · δ, as for any fully connected layer.",
        "{layer} как полносвязный слой: у W строка на каждую выходную клетку ({outs}) и столбец на каждый входной пиксель ({pixels}); каждая строка — сдвинутый фильтр. Дельта вниз — Wᵀ · δ, как у любого полносвязного слоя.",
    ),
    (
        "Wᵀ · δ and full_conv(D, rot180 F) differ by at most {diff}: they are the same computation.",
        "Wᵀ · δ и full_conv(D, rot180 F) расходятся не больше чем на {diff}: это одно и то же вычисление.",
    ),
    (
        "Wᵀ · δ and the engine's D_below differ by at most {diff}.",
        "Wᵀ · δ и D_below движка расходятся не больше чем на {diff}.",
    ),
    (
        "dF as the im2col product (the patches of x times δ, summed over the batch) and the engine's dF differ by at most {diff}.",
        "dF как произведение im2col (окна x, умноженные на δ, сумма по батчу) и dF движка расходятся не больше чем на {diff}.",
    ),
    ("zoom", "масштаб"),
    (
        "Wᵀ: a row per input pixel, a column per output cell",
        "Wᵀ: строка на входной пиксель, столбец на выходную клетку",
    ),
    (
        "F: click a tap to mark every entry of Wᵀ that holds it",
        "F: щёлкните вес, чтобы отметить все элементы Wᵀ, где он стоит",
    ),
    (
        "Wᵀ[{r}, {q}] = F[{u},{v}] = {value}: input pixel ({y}, {x}) reaches output cell ({i}, {j}) through tap ({u}, {v}), so on the way back δ({i}, {j}) reaches ({y}, {x}) through the same weight.",
        "Wᵀ[{r}, {q}] = F[{u},{v}] = {value}: входной пиксель ({y}, {x}) попадает в выходную клетку ({i}, {j}) через вес ({u}, {v}), поэтому на обратном пути δ({i}, {j}) приходит в ({y}, {x}) через тот же вес.",
    ),
    (
        "Wᵀ[{r}, {q}] = 0: input pixel ({y}, {x}) is outside the window of output cell ({i}, {j}).",
        "Wᵀ[{r}, {q}] = 0: входной пиксель ({y}, {x}) вне окна выходной клетки ({i}, {j}).",
    ),
    ("δ: the output cell", "δ: выходная клетка"),
    ("D_below: the input pixel", "D_below: входной пиксель"),
    (
        "Cover the terms and the value: work the number out yourself and have it checked",
        "Скрыть слагаемые и значение: посчитайте число сами и проверьте",
    ),
    (
        "Nothing to work out here: this is a pixel of the input.",
        "Здесь нечего считать: это пиксель входа.",
    ),
    (
        "Which weight of F (out channel {o}) multiplies each cell of the padded D under the window? Type the 9 numbers, position (0, 0) top left.",
        "Какой вес F (выходной канал {o}) умножается на каждую клетку дополненной D под окном? Введите 9 чисел, позиция (0, 0) — левая верхняя.",
    ),
    ("Check the weights", "Проверить веса"),
    (
        "✔ Every weight is right: the window holds F turned by 180°.",
        "✔ Все веса верны: в окне F, повёрнутый на 180°.",
    ),
    ("Your value:", "Ваше значение:"),
    ("Check", "Проверить"),
    (
        "Type a number (a dot or a comma for the decimals).",
        "Введите число (дробная часть — через точку или запятую).",
    ),
    (
        "✔ Right: that is the engine's number.",
        "✔ Верно: это число движка.",
    ),
    (
        "This number has not been computed yet in this step.",
        "Это число на этом шаге ещё не посчитано.",
    ),
    (
        "Position ({a}, {b}) is empty: which weight of F multiplies that cell of D?",
        "Позиция ({a}, {b}) пуста: какой вес F умножается на эту клетку D?",
    ),
    (
        "At position ({a}, {b}) you used F[{a},{b}] = {used}; after the 180° rotation this position takes F[{ra},{rb}] = {right}.",
        "В позиции ({a}, {b}) вы взяли F[{a},{b}] = {used}; после поворота на 180° сюда встаёт F[{ra},{rb}] = {right}.",
    ),
    (
        "At position ({a}, {b}) the weight is F[{ra},{rb}] = {right} (rot180(F)[{a},{b}]), not {typed}.",
        "В позиции ({a}, {b}) стоит вес F[{ra},{rb}] = {right} (rot180(F)[{a},{b}]), а не {typed}.",
    ),
    ("No bug: the right backprop", "Без ошибки: правильный backprop"),
    ("Reveal to the class", "Показать классу"),
    ("Switch on a random bug", "Включить случайную ошибку"),
    (
        "One of the mistakes below, picked at random: you don't know it either",
        "Одна из ошибок списка, выбранная случайно: вы тоже не знаете какая",
    ),
    (
        "A bug is switched on. Its name stays hidden until you reveal it.",
        "Ошибка включена. Её название скрыто, пока вы его не покажете.",
    ),
    ("Switch it off", "Выключить"),
    (
        "Choose one yourself (the list shows on a mirrored screen)",
        "Выбрать самому (список виден на общем экране)",
    ),
    (
        "Switch a bug on and step through a backward pass first",
        "Сначала включите ошибку и пройдите обратный проход",
    ),
    ("The bug was: {words}", "Ошибка была такая: {words}"),
    ("Find the bug (teacher)…", "Найдите ошибку (учителю)…"),
    (
        "Switch on one common mistake inside the app's backward pass for the class to find",
        "Включить одну типичную ошибку в обратный проход программы, чтобы класс её нашёл",
    ),
    ("yours", "ваш"),
    ("yours − the engine's", "ваш − движок"),
    // Files handed in.
    (
        "expected a .safetensors, .npy or .csv file",
        "ожидался файл .safetensors, .npy или .csv",
    ),
    ("holds no tensors", "не содержит тензоров"),
    (
        "tensor {name} is {dtype}; hand in F32 or F64",
        "тензор {name} имеет тип {dtype}; сдавайте F32 или F64",
    ),
    (
        "tensor {name} does not match its shape",
        "тензор {name} не соответствует своей форме",
    ),
    (
        "not a NumPy .npy file (np.save writes one)",
        "это не файл NumPy .npy (такой пишет np.save)",
    ),
    (
        "holds {dtype} values; hand in float32 or float64 (np.float32, np.float64)",
        "содержит значения типа {dtype}; сдавайте float32 или float64 (np.float32, np.float64)",
    ),
    (
        "has {n} dimensions; no tensor of a trace has more than 4",
        "имеет {n} измерений; ни у одного тензора трассы их не больше 4",
    ),
    (
        "its shape {shape} does not match the {bytes} bytes of data present",
        "его форма {shape} не сходится с имеющимися {bytes} байтами данных",
    ),
    (
        "is not text (expected the app's CSV layout)",
        "это не текст (ожидался CSV в формате программы)",
    ),
    ("is empty", "пуст"),
    (
        "the first row must be the header {header} (the app's Export as CSV layout)",
        "первая строка должна быть заголовком {header} (формат «Экспорт в CSV» программы)",
    ),
    (
        "row {row}: expected {n} numbers (the indices, then the value)",
        "строка {row}: ожидалось {n} чисел (индексы, затем значение)",
    ),
    (
        "{rows} rows for the shape {shape}: an index is missing or repeated",
        "{rows} строк для формы {shape}: какой-то индекс пропущен или повторён",
    ),
    (
        "the index {index} appears twice",
        "индекс {index} встречается дважды",
    ),
    (
        "the trace has no tensor called {name} (names are like conv2.weight_grad, pool2.delta, fc1.delta)",
        "в трассе нет тензора {name} (имена вида conv2.weight_grad, pool2.delta, fc1.delta)",
    ),
    // The right formulas.
    (
        "logits.delta = (softmax − one_hot) / N",
        "logits.delta = (softmax − one_hot) / N, как в трассе",
    ),
    ("the trace's own tensor", "тензор из трассы"),
    (
        "dF[o,c,a,b] = Σ_n Σ_i Σ_j x[n,c,i+a,j+b] · D[n,o,i,j] (x zero-padded, no flipping)",
        "dF[o,c,a,b] = Σ_n Σ_i Σ_j x[n,c,i+a,j+b] · D[n,o,i,j] (x дополнен нулями, без переворота)",
    ),
    (
        "dF[o,c,a,b] = Σ_n Σ_i Σ_j x[n,c,{s}·i+{dl}·a,{s}·j+{dl}·b] · D[n,o,i,j] (x zero-padded, no flipping; stride {s}, dilation {dl})",
        "dF[o,c,a,b] = Σ_n Σ_i Σ_j x[n,c,{s}·i+{dl}·a,{s}·j+{dl}·b] · D[n,o,i,j] (x дополнен нулями, без переворота; шаг {s}, расширение {dl})",
    ),
    (
        "D_below[n,c] = Σ_o full_corr(D[n,o] with {z} zero(s) between its cells, rot180 F[o,c] with {h} hole(s) between its taps), the padding cut from every side",
        "D_below[n,c] = Σ_o full_corr(D[n,o] с {z} нулями между клетками, rot180 F[o,c] с {h} пропусками между отводами), дополнение срезано со всех сторон",
    ),
    (
        "{name} keeps only the last window's share where windows overlap: a cell in several windows gets the sum of what each sends it (+=, not =).",
        "{name} оставляет там, где окна перекрываются, только долю последнего окна: клетка из нескольких окон получает сумму того, что ей шлёт каждое (+=, а не =).",
    ),
    (
        "{name} copies each window's delta into every cell of it: average pooling divides it, D / (size²) to each cell, since each cell counted 1/(size²) in the mean.",
        "{name} копирует дельту окна в каждую его клетку: усредняющий пулинг её делит, D / (size²) каждой клетке, ведь каждая клетка входила в среднее с весом 1/(size²).",
    ),
    (
        "{name} scatters D's cells side by side: with stride {s} they sit {s} cells apart in the padded input, so put {z} zero(s) between D's cells (dilate D) before the full convolution with F.",
        "{name} раскладывает клетки D вплотную: при шаге {s} они стоят через {s} клетки дополненного входа, поэтому вставьте {z} нулей между клетками D (разрядите D) перед полной свёрткой с F.",
    ),
    (
        "{name} reads x at neighbouring positions i + a: with stride {s} output cell i read x at {s}·i + a, so each tap's sum takes x every {s} cells ({formula}).",
        "{name} читает x в соседних позициях i + a: при шаге {s} выходная клетка i читала x в позиции {s}·i + a, так что сумма для каждого отвода берёт x через каждые {s} клетки ({formula}).",
    ),
    (
        "{name} treats the filter's taps as neighbours: with dilation {dl} they are {dl} cells apart, and the backward pass reads and scatters through those same holes ({formula}).",
        "{name} считает отводы фильтра соседними: при расширении {dl} они стоят через {dl} клетки, и обратный проход читает и раскладывает через те же пропуски ({formula}).",
    ),
    (
        "dB[o] = Σ_n Σ_i Σ_j D[n,o,i,j]",
        "dB[o] = Σ_n Σ_i Σ_j D[n,o,i,j] (сумма по батчу и по карте)",
    ),
    (
        "D_below[n,c] = Σ_o full_corr(D[n,o], rot180 F[o,c]) with the padding cut from every side",
        "D_below[n,c] = Σ_o full_corr(D[n,o], rot180 F[o,c]), с отрезанным со всех сторон дополнением",
    ),
    (
        "dW = Dᵀ · x, that is dW[o,i] = Σ_n D[n,o] · x[n,i]",
        "dW = Dᵀ · x, то есть dW[o,i] = Σ_n D[n,o] · x[n,i]",
    ),
    ("dB[o] = Σ_n D[n,o]", "dB[o] = Σ_n D[n,o] (сумма по батчу)"),
    (
        "D_below = Wᵀ · δ for each sample (D @ W with samples as rows)",
        "D_below = Wᵀ · δ для каждого примера (D @ W, примеры — строки)",
    ),
    (
        "D_below = D · (x > 0), x being the ReLU's input",
        "D_below = D · (x > 0), где x — вход ReLU",
    ),
    (
        "D_below = D · σ(x) · (1 − σ(x))",
        "D_below = D · σ(x) · (1 − σ(x)), где x — вход сигмоиды",
    ),
    (
        "D_below = D · (1 − tanh²(x))",
        "D_below = D · (1 − tanh²(x)), где x — вход tanh",
    ),
    (
        "each window's delta goes whole to the cell that held its first maximum, 0 to the others",
        "дельта каждого окна целиком идёт в клетку, где был его первый максимум, остальным — 0",
    ),
    (
        "each window's delta is shared equally, D / s², by its s² cells",
        "дельта каждого окна делится поровну, D / s², между его s² клетками",
    ),
    (
        "D_below = D.reshape(N, C, h, w), row-major as flatten read it",
        "D_below = D.reshape(N, C, h, w), построчно, как читал flatten",
    ),
    (
        "the layer's forward pass, as the trace computed it",
        "прямой проход слоя, как его посчитала трасса",
    ),
    // Verdicts.
    (
        "{name} matches: the trace's is all zero (nothing passed back through this layer) and so is yours.",
        "{name} совпадает: в трассе он весь нулевой (через этот слой назад ничего не прошло), и у вас тоже.",
    ),
    (
        "{name} matches the trace (largest difference {err} of its largest value).",
        "{name} совпадает с трассой (наибольшее расхождение — {err} от наибольшего значения).",
    ),
    (
        "{name} is {n} times too large: the loss is the mean over the batch's {n} samples, so its gradient carries 1/{n}; start from logits.delta = (softmax − one_hot) / N.",
        "{name} в {n} раз больше нужного: потеря — среднее по {n} примерам батча, поэтому в градиенте есть множитель 1/{n}; начинайте с logits.delta = (softmax − one_hot) / N.",
    ),
    (
        "{name} is {n} times too small: the 1/N of the mean was applied twice; it is already in logits.delta = (softmax − one_hot) / N, so do not divide again.",
        "{name} в {n} раз меньше нужного: 1/N от среднего применено дважды; оно уже есть в logits.delta = (softmax − one_hot) / N, второй раз делить не нужно.",
    ),
    (
        "{name} has the wrong sign everywhere: the output's delta is (softmax − one_hot) / N, not (one_hot − softmax); the minus belongs only to the update, w ← w − η · grad.",
        "У {name} везде не тот знак: дельта выхода — (softmax − one_hot) / N, а не (one_hot − softmax); минус нужен только в обновлении, w ← w − η · grad.",
    ),
    (
        "{name} is transposed (your shape {found}, the trace's {expected}): its last two axes are swapped; the right one is {formula}.",
        "{name} транспонирован (у вас форма {found}, в трассе {expected}): две последние оси переставлены; правильно: {formula}.",
    ),
    (
        "{name} is the right dF turned by 180°: you convolved (flipping D), but dF is the correlation of x with D, {formula}.",
        "{name} — правильный dF, повёрнутый на 180°: вы посчитали свёртку (с переворотом D), а dF — это корреляция x с D, {formula}.",
    ),
    (
        "{name} holds sample 0's share only: a batch's gradient sums the shares of all {n} samples (the 1/N is already inside D).",
        "В {name} только вклад примера 0: градиент батча — сумма вкладов всех {n} примеров (1/N уже внутри D).",
    ),
    (
        "{name} was computed with the filter unrotated: the delta handed down is the full correlation of D with rot180(F), F turned by 180° (which is the full convolution of D with F).",
        "{name} посчитан с неповёрнутым фильтром: дельта вниз — полная корреляция D с rot180(F), фильтром, повёрнутым на 180° (то есть полная свёртка D с F).",
    ),
    (
        "{name} is shifted {p} cell(s) down and right: after the full convolution, cut the padding ({p} rows and columns) from every side, not only from the bottom and the right.",
        "{name} сдвинут на {p} клетк(и) вниз и вправо: после полной свёртки отрежьте дополнение ({p} строк и столбцов) со всех сторон, а не только снизу и справа.",
    ),
    (
        "{name} holds only what output channel 0 sends back: every output channel sends to every input channel, so sum over o: {formula}.",
        "В {name} только то, что отправил назад выходной канал 0: каждый выходной канал отправляет в каждый входной, поэтому суммируйте по o: {formula}.",
    ),
    (
        "{name} used W where its transpose is due: the delta handed down is Wᵀ · δ (D @ W with samples as rows), not W · δ.",
        "В {name} взята W там, где нужна транспонированная: дельта вниз — Wᵀ · δ (D @ W, примеры — строки), а не W · δ.",
    ),
    (
        "{name} lets the delta through where the ReLU blocked it: multiply by the mask, D · (x > 0), x being the ReLU's input.",
        "{name} пропускает дельту там, где ReLU её перекрыл: умножьте на маску, D · (x > 0), где x — вход ReLU.",
    ),
    (
        "{name} has the ReLU mask inverted: the delta passes where the ReLU's input was positive, D · (x > 0), and is 0 where it was ≤ 0.",
        "У {name} маска ReLU перевёрнута: дельта проходит там, где вход ReLU был положителен, D · (x > 0), и равна 0, где он был ≤ 0.",
    ),
    (
        "{name} spreads each window's delta over all its cells, as average pooling would: max pooling sends it whole to the cell that held the maximum and 0 to the others.",
        "{name} размазывает дельту каждого окна по всем его клеткам, как сделал бы average pooling: max pooling отдаёт её целиком клетке, где был максимум, а остальным — 0.",
    ),
    (
        "{name} sends each window's delta to the window's top-left cell: it belongs to the cell that held the maximum (the first in row order when several are equal).",
        "{name} отправляет дельту каждого окна в его левую верхнюю клетку: она принадлежит клетке, где был максимум (первой по строкам, если равных несколько).",
    ),
    (
        "{name} puts the values back in column-major order: un-flatten in the row-major order flatten used, D.reshape(N, C, h, w).",
        "{name} раскладывает значения обратно по столбцам: разворачивайте в том же построчном порядке, что и flatten, D.reshape(N, C, h, w).",
    ),
    (
        "{name} has the shape {found} but the trace's has {expected}; the right one is {formula}.",
        "У {name} форма {found}, а в трассе {expected}; правильно: {formula}.",
    ),
    (
        "{name} does not match (largest difference {err} of the largest value; first at {at}: yours {mine}, the trace's {right}) and is none of the known mistakes; check each step against {formula}.",
        "{name} не совпадает (наибольшее расхождение — {err} от наибольшего значения; первое в {at}: у вас {mine}, в трассе {right}) и не похож ни на одну известную ошибку; сверьте каждый шаг с формулой {formula}.",
    ),
    (
        "{name} does not match and is none of the known mistakes; check each step against {formula}.",
        "{name} не совпадает и не похож ни на одну известную ошибку; сверьте каждый шаг с формулой {formula}.",
    ),
    (
        "dF[i,o,a,b] = Σ_n Σ_y Σ_x x[n,i,y,x] · D[n,o,{s}·y+a−P,{s}·x+b−P] (F laid out [in, out, K, K]; D zero-padded by P)",
        "dF[i,o,a,b] = Σ_n Σ_y Σ_x x[n,i,y,x] · D[n,o,{s}·y+a−P,{s}·x+b−P] (F в раскладке [in, out, K, K]; D дополнена нулями на P)",
    ),
    (
        "D_below[n,i,y,x] = Σ_o Σ_a Σ_b F[i,o,a,b] · D[n,o,{s}·y+a−P,{s}·x+b−P]: the forward pass of the stride-{s} conv whose backward the layer is, no flipping",
        "D_below[n,i,y,x] = Σ_o Σ_a Σ_b F[i,o,a,b] · D[n,o,{s}·y+a−P,{s}·x+b−P]: прямой проход свёртки с шагом {s}, обратным проходом которой является слой, без поворота",
    ),
    (
        "dγ[c] = Σ_n Σ_i Σ_j D[n,c,i,j] · z[n,c,i,j], z = (x − μ) / √(σ² + ε) over the batch",
        "dγ[c] = Σ_n Σ_i Σ_j D[n,c,i,j] · z[n,c,i,j], z = (x − μ) / √(σ² + ε) по батчу",
    ),
    (
        "D_below = γ/s · (D − dβ/m − z · dγ/m), s = √(σ² + ε), z = (x − μ)/s, m = N·H·W values per channel, μ and σ² the batch's",
        "D_below = γ/s · (D − dβ/m − z · dγ/m), s = √(σ² + ε), z = (x − μ)/s, m = N·H·W значений на канал, μ и σ² — батча",
    ),
    (
        "{name} leaves out the path through the mean: every x moved μ, which every cell of its channel was normalised by, so subtract dβ/m inside the bracket ({formula}).",
        "В {name} пропущен путь через среднее: каждый x сдвигал μ, которым нормировалась каждая клетка канала, поэтому внутри скобки вычтите dβ/m ({formula}).",
    ),
    (
        "{name} leaves out the path through the variance: every x moved σ², so subtract z · dγ/m inside the bracket ({formula}).",
        "В {name} пропущен путь через дисперсию: каждый x сдвигал σ², поэтому внутри скобки вычтите z · dγ/m ({formula}).",
    ),
    (
        "{name} treats μ and σ as constants (γ/s · D alone): in training they are the batch's own, and each x moved them; add the two terms through them ({formula}).",
        "В {name} μ и σ взяты как константы (только γ/s · D): при обучении это статистики самого батча, и каждый x их сдвигал; добавьте два слагаемых через них ({formula}).",
    ),
    (
        "{name} divides by the batch size N where m is due: batch norm over maps takes each channel's statistics over all N·H·W values, so m = N·H·W ({formula}).",
        "В {name} деление на размер батча N там, где нужно m: батч-нормализация карт считает статистики канала по всем N·H·W значениям, так что m = N·H·W ({formula}).",
    ),
    (
        "{name} multiplies D by the input x: γ scales the normalised input, so dγ = Σ D · z with z = (x − μ)/√(σ² + ε).",
        "В {name} D умножена на вход x: γ масштабирует нормированный вход, поэтому dγ = Σ D · z, где z = (x − μ)/√(σ² + ε).",
    ),
    (
        "{name} used the filter turned by 180°: a transposed conv's backward pass is the forward pass of its conv, a plain correlation of D with F, no flipping ({formula}).",
        "В {name} фильтр повёрнут на 180°: обратный проход транспонированной свёртки — прямой проход её свёртки, простая корреляция D с F без поворота ({formula}).",
    ),
    (
        "{name} pairs x's cells with D's side by side: in the forward pass input cell y scattered onto output {s}·y, so each tap pairs x with D every {s} cells ({formula}).",
        "В {name} клетки x сопоставлены с соседними клетками D: в прямом проходе клетка входа y легла на выход {s}·y, поэтому каждый отсчёт сопоставляет x с D через каждые {s} клетки ({formula}).",
    ),
    (
        "{name} reads the weight as a conv's [out, in, K, K]: a transposed conv keeps it as [in, out, K, K], input channels first ({formula}).",
        "В {name} вес прочитан как у свёртки, [out, in, K, K]: у транспонированной свёртки он хранится как [in, out, K, K], входные каналы первыми ({formula}).",
    ),
];
