//! Translations (see `mod.rs`): the Data, Draw, Experiment, Mistakes and
//! Architecture tabs, the drawing pad, files and dialogs, and the keyboard
//! shortcuts (`app/data_panel.rs`, `draw_pad.rs`, `draw_tab.rs`,
//! `experiment.rs`, `mistakes.rs`, `architecture.rs`, `files.rs`,
//! `shortcuts.rs`). Texts those files share with `app/views.rs` ("Load
//! pretrained model", "epoch", "Keyboard shortcuts") are in `views_text.rs`.

pub const TEXT: &[(&str, &str)] = &[
    // The Data tab: loading, dialogs and their messages.
    (
        "No file dialog is available here: drop the MNIST files (or their folder) on the window, or start with --data DIR.",
        "Диалог выбора файлов здесь недоступен: перетащите файлы MNIST (или их папку) в окно или запустите программу с --data DIR.",
    ),
    ("Open the MNIST files (all four)", "Откройте файлы MNIST (все четыре)"),
    ("Open the folder holding MNIST's files", "Откройте папку с файлами MNIST"),
    (
        "the file dialog failed ({error}): drop the files on the window instead",
        "диалог выбора файлов не сработал ({error}): перетащите файлы в окно",
    ),
    (
        "{paths}: the loader crashed (a bug: please report it)",
        "{paths}: загрузчик упал (это ошибка программы: сообщите о ней, пожалуйста)",
    ),
    ("cannot start loading: {error}", "не удаётся начать загрузку: {error}"),
    (
        "missing, and so is {file}: the app needs the training files and the test files together (each raw or .gz)",
        "нет этого файла, и нет {file}: программе нужны и обучающие, и тестовые файлы (каждый — как есть или .gz)",
    ),
    ("A file dialog is already open", "Диалог выбора файлов уже открыт"),
    ("Open dataset…", "Открыть набор данных…"),
    (
        "Pick MNIST's four files (train-images, train-labels, t10k-images, t10k-labels; raw IDX or .gz). The data loaded now stays until the new files load without error.",
        "Выберите четыре файла MNIST (train-images, train-labels, t10k-images, t10k-labels; IDX как есть или .gz). Загруженные сейчас данные остаются, пока новые файлы не загрузятся без ошибок.",
    ),
    ("Open folder…", "Открыть папку…"),
    (
        "Pick a folder holding MNIST's four files (raw IDX or .gz), e.g. Fashion-MNIST. You can also drop the files or the folder on the window.",
        "Выберите папку с четырьмя файлами MNIST (IDX как есть или .gz), например Fashion-MNIST. Файлы или папку можно также перетащить в окно.",
    ),
    ("loading…", "загрузка…"),
    ("waiting for the file dialog…", "ждём диалог выбора файлов…"),
    ("Release to load these files", "Отпустите, чтобы загрузить эти файлы"),
    ("Source: {source}", "Источник: {source}"),
    ("Where the data shown here was read from", "Откуда прочитаны показанные здесь данные"),
    ("digit", "цифра"),
    ("training images", "обучающих изображений"),
    ("No training images to show", "Нет обучающих изображений для показа"),
    (
        "The first {n} training images, with their labels:",
        "Первые обучающие изображения (всего: {n}) с метками:",
    ),
    ("training image {index}: label {label}", "обучающее изображение {index}: метка {label}"),
    (
        "Training image #{index}, labelled {label}",
        "Обучающее изображение №{index}, метка {label}",
    ),
    (
        "Training images: {train} · Test images: {test} · Size: {rows}x{cols} pixels",
        "Обучающих изображений: {train} · тестовых: {test} · размер: {rows}x{cols} пикс.",
    ),
    // The drawing pad and its two views.
    ("Clear", "Очистить"),
    ("Erase the drawing and start again", "Стереть рисунок и начать заново"),
    ("Brush size", "Толщина кисти"),
    (
        "How thick the ink is, as a fraction of the pad. Applies to the whole drawing, so you can see how thickness alone changes the prediction.",
        "Толщина линии как доля размера поля. Меняется для всего рисунка сразу, так что видно, как одна толщина влияет на предсказание.",
    ),
    ("Drawing pad", "Поле для рисования"),
    ("draw a digit here", "нарисуйте здесь цифру"),
    ("What the network sees (28x28)", "Что видит сеть (28x28)"),
    (
        "The drawing after MNIST's preprocessing: cropped, scaled to fit 20x20, centred by its centre of mass in {side}x{side}. This is the network's input.",
        "Рисунок после предобработки, как в MNIST: обрезан, вписан в 20x20 и отцентрован по центру масс в {side}x{side}. Это и есть вход сети.",
    ),
    ("No picture", "Нет изображения"),
    ("No prediction yet", "Предсказания пока нет"),
    ("digit {digit}: {percent} %", "цифра {digit}: {percent} %"),
    ("(the network's answer)", "(ответ сети)"),
    ("(the correct answer)", "(правильный ответ)"),
    ("Correct answer: {label}", "Правильный ответ: {label}"),
    // The Draw a digit tab.
    (
        "Draw a digit with the mouse, a finger or a pen. The network sees the 28x28 picture in the middle: your drawing cropped to its ink, scaled to 20 pixels and centred, exactly as MNIST was made.",
        "Нарисуйте цифру мышью, пальцем или пером. Сеть видит картинку 28x28 посередине: ваш рисунок, обрезанный по краям линий, уменьшенный до 20 пикселей и отцентрованный — ровно так, как делался MNIST.",
    ),
    ("Your drawing", "Ваш рисунок"),
    ("(nothing drawn yet)", "(пока ничего не нарисовано)"),
    ("What it thinks", "Что думает сеть"),
    (
        "Draw something to see the ten probabilities.",
        "Нарисуйте что-нибудь, чтобы увидеть десять вероятностей.",
    ),
    (
        "Use the trained model that ships with the program, so the pad is useful before any training",
        "Взять обученную модель, которая поставляется с программой: рисовать можно и до всякого обучения",
    ),
    ("Teach it", "Научите сеть"),
    (
        "Pick the right answer, then run one backpropagation step on your drawing alone and step through it in the Backprop tab.",
        "Выберите правильный ответ, затем выполните один шаг обратного распространения только на вашем рисунке и пройдите его по шагам на вкладке «Обратное распространение».",
    ),
    ("The drawing shows a {digit}", "На рисунке цифра {digit}"),
    ("Teach it this digit", "Научить этой цифре"),
    (
        "Start a one-sample batch with your drawing and this label; step through it with Step layer",
        "Начать батч из одного примера — вашего рисунка с этой меткой; пройдите его кнопкой «Шаг: слой»",
    ),
    // The experiment: frozen against learning filters.
    ("filters frozen", "фильтры заморожены"),
    ("filters learning", "фильтры обучаются"),
    ("the experiment stopped early", "эксперимент остановился раньше времени"),
    (
        "The question's experiment: frozen filters against learning ones",
        "Эксперимент из вопроса: замороженные фильтры против обучаемых",
    ),
    (
        "Two copies of the {network} network start from the same weights (seed {seed}). One keeps its conv filters as they were initialised, as in the question (only the FC layers learn); the other lets backpropagation reach the filters. Both see the same batches.",
        "Две копии сети ({network}) начинают с одних и тех же весов (зерно {seed}). Одна оставляет свёрточные фильтры такими, как они были инициализированы, как в вопросе (обучаются только FC-слои); в другой обратное распространение доходит до фильтров. Обе видят одни и те же батчи.",
    ),
    ("loaded", "загруженная"),
    ("Epochs:", "Эпох:"),
    (
        "How many passes over the training set each copy makes",
        "Сколько проходов по обучающей выборке делает каждая копия",
    ),
    ("Run the experiment", "Запустить эксперимент"),
    (
        "Train both copies on their own thread; test accuracy is measured after every epoch",
        "Обучить обе копии в отдельном потоке; точность на тестовой выборке измеряется после каждой эпохи",
    ),
    ("training…", "обучение…"),
    ("{run}: {percent} % after epoch {epoch}", "{run}: {percent} % после эпохи {epoch}"),
    ("test accuracy %", "точность на тесте, %"),
    ("The filters at the end", "Фильтры в конце"),
    ("{layer} ({cout}x{cin} filters)", "{layer} (фильтры {cout}x{cin})"),
    ("{run} {layer} filter [{o},{c}]", "{run}: фильтр {layer} [{o},{c}]"),
    // The Mistakes tab.
    ("Where does it go wrong?", "Где сеть ошибается?"),
    ("Evaluate on the test set", "Проверить на тестовой выборке"),
    (
        "Classify the 10,000 test digits with the network as it is now",
        "Классифицировать 10 000 тестовых цифр сетью в её текущем виде",
    ),
    (
        "The confusion matrix counts, for each true digit (row), which digit the network answered (column).",
        "Матрица ошибок считает для каждой истинной цифры (строка), какую цифру ответила сеть (столбец).",
    ),
    (
        "{correct} of {total} right ({percent} %), {mistakes} mistakes",
        "верно {correct} из {total} ({percent} %), ошибок: {mistakes}",
    ),
    (
        "rows: true digit 0–9 · columns: answer 0–9",
        "строки: истинная цифра 0–9 · столбцы: ответ 0–9",
    ),
    ("confusion matrix (log colour)", "матрица ошибок (цвет в логарифмической шкале)"),
    (
        "The first {n} mistakes (true → answer); click one to step it through the views:",
        "Первые ошибки (всего: {n}; истина → ответ); щёлкните по одной, чтобы пройти её по шагам:",
    ),
    (
        "test image {index}: a {label}, answered {predicted}",
        "тестовое изображение {index}: цифра {label}, ответ {predicted}",
    ),
    // The Architecture tab.
    ("Build your own network", "Соберите свою сеть"),
    (
        "The same shape as the question's network — conv, activation, pooling, twice, then two FC layers — with its sizes yours to choose. Build replaces the network (same seed) and every view follows.",
        "То же строение, что у сети из вопроса — свёртка, активация, пулинг, дважды, затем два FC-слоя, — но размеры выбираете вы. Кнопка сборки заменяет сеть (то же зерно), и все картинки следуют за ней.",
    ),
    ("Filters in conv1:", "Фильтров в conv1:"),
    ("Filters in conv2:", "Фильтров в conv2:"),
    (
        "How many 3x3 (or 5x5) filters this conv layer has: how many feature maps it makes",
        "Сколько фильтров 3x3 (или 5x5) в этом свёрточном слое: столько карт признаков он создаёт",
    ),
    ("Kernel:", "Ядро:"),
    ("Filters of 3x3 weights", "Фильтры из 3x3 весов"),
    ("Dilation:", "Расширение:"),
    (
        "strided (lenet's convs with stride 2, no pooling)",
        "strided (свёртки lenet с шагом 2, без пулинга)",
    ),
    ("The filter's taps side by side", "Отводы фильтра стоят вплотную"),
    (
        "The filter's taps 2 cells apart, a hole between each: a 3x3 filter covers 5x5",
        "Отводы фильтра через 2 клетки, с пропуском между ними: фильтр 3x3 накрывает 5x5",
    ),
    ("none: stride 2", "нет: шаг 2"),
    ("max 3x3, stride 2", "max 3x3, шаг 2"),
    (
        "Overlapping windows: 3x3, 2 apart. A cell that wins two windows gets both deltas, added up",
        "Перекрывающиеся окна: 3x3 через 2. Клетка, победившая в двух окнах, получает обе дельты, сложенные",
    ),
    (
        "No pooling layers: each conv moves 2 cells at a time, so its output is half the size (an all-conv network)",
        "Без слоёв пулинга: каждая свёртка шагает через 2 клетки, и её выход вдвое меньше (сеть из одних свёрток)",
    ),
    ("Filters of 5x5 weights", "Фильтры из 5x5 весов"),
    ("Padding:", "Дополнение нулями:"),
    ("same", "сохранять размер"),
    (
        "Zeros around the input so a conv keeps the map's size",
        "Нули вокруг входа, чтобы свёртка сохраняла размер карты",
    ),
    ("none", "нет"),
    (
        "No padding: each conv shrinks the map by kernel − 1",
        "Без дополнения: каждая свёртка уменьшает карту на (ядро − 1)",
    ),
    ("Pooling:", "Пулинг:"),
    ("max", "максимум"),
    (
        "Keep each 2x2 window's largest value (its delta goes to that cell)",
        "Оставить наибольшее значение каждого окна 2x2 (его дельта идёт в эту ячейку)",
    ),
    ("average", "среднее"),
    (
        "Keep each 2x2 window's mean (its delta is spread evenly)",
        "Оставить среднее каждого окна 2x2 (его дельта распределяется поровну)",
    ),
    ("Activation:", "Активация:"),
    ("{act} after each conv layer and after fc1", "{act} после каждого свёрточного слоя и после fc1"),
    ("FC1 width:", "Ширина FC1:"),
    ("Units in the hidden fully connected layer", "Нейронов в скрытом полносвязном слое"),
    ("1x28x28 → {shapes} · {count} weights", "1x28x28 → {shapes} · весов: {count}"),
    ("This network cannot be built: {why}", "Такую сеть построить нельзя: {why}"),
    ("Build this network", "Собрать эту сеть"),
    (
        "Replace the network (fresh initial weights from the current seed) and start again",
        "Заменить сеть (новые начальные веса из текущего зерна) и начать заново",
    ),
    ("built in the architecture editor", "собрана в редакторе архитектуры"),
    // Files: saving, exporting, opening.
    ("{path}: cannot write: {error}", "{path}: не удаётся записать: {error}"),
    ("Saved {path}", "Сохранено: {path}"),
    ("the screenshot has the wrong size", "у снимка экрана неверный размер"),
    ("cannot encode the PNG: {error}", "не удаётся закодировать PNG: {error}"),
    ("Export the view as PNG", "Экспорт окна в PNG"),
    (
        "No file dialog is available here (no desktop portal or zenity). Models and traces can also be written from the command line: train --save, trace --out.",
        "Диалог выбора файлов здесь недоступен (нет desktop portal или zenity). Модели и трассы можно записать и из командной строки: train --save, trace --out.",
    ),
    ("Open a model (safetensors)", "Открыть модель (safetensors)"),
    (
        "No file dialog is available here: start with --model FILE.",
        "Диалог выбора файлов здесь недоступен: запустите программу с --model FILE.",
    ),
    // Keyboard shortcuts.
    ("Space", "Пробел"),
    ("Step layer: run the next phase", "Шаг: слой — выполнить следующую фазу"),
    (
        "Step batch: finish the current batch",
        "Шаг: батч — завершить текущий батч",
    ),
    ("Run or pause training", "Пуск или пауза обучения"),
    ("Reset to the same start", "Сброс к тому же началу"),
    (
        "Back one step in time (every view shows that moment)",
        "На шаг назад во времени (все картинки показывают тот момент)",
    ),
    (
        "Forward one step (replays what ← undid, else steps a layer)",
        "На шаг вперёд (повторяет отменённое ←, иначе шаг на слой)",
    ),
    ("Projector mode on or off", "Включить или выключить режим проектора"),
    ("? or F1", "? или F1"),
    ("Show or hide this list", "Показать или скрыть этот список"),
    (
        "Guided lesson: next / previous step; PgDn also starts it and first reveals a covered step (presentation clickers send these)",
        "Урок: следующий / предыдущий шаг; PgDn его и начинает, а закрытый шаг сначала открывает (эти клавиши посылают пульты для презентаций)",
    ),
    ("Blank the screen (any key brings it back)", "Затемнить экран (любая клавиша вернёт его)"),
    (
        "The answer's two equations, one screen each on a small window",
        "Два уравнения ответа: на маленьком экране — по одному",
    ),
    (
        "A {label} the network read as {predicted}: step through its backward pass here; it is also on the pad in the Draw tab.",
        "Цифра {label}, которую сеть приняла за {predicted}: пройдите её обратный проход здесь; она также на холсте во вкладке «Нарисовать цифру».",
    ),
    // The first-start card and the lesson's question.
    ("How does the error reach the filter?", "Как ошибка доходит до фильтра?"),
    (
        "This window shows, number by number, how a small CNN learns: the error computed at the output travels back through the fully connected layers and the pooling into the 3x3 filters, and the filters change.",
        "Это окно показывает, число за числом, как учится маленькая свёрточная сеть: ошибка, посчитанная на выходе, идёт назад через полносвязные слои и пулинг в фильтры 3x3, и фильтры меняются.",
    ),
    ("Start the guided lesson", "Начать урок"),
    (
        "Sixteen short steps from the forward pass to the filter update",
        "Шестнадцать коротких шагов от прямого прохода до обновления фильтров",
    ),
    ("Step through it yourself", "Пройти самому, шаг за шагом"),
    (
        "Press Step layer (or Space) and watch each layer; click any cell to see how it was computed",
        "Нажимайте «Шаг: слой» (или пробел) и смотрите на каждый слой; щёлкните по любой ячейке, чтобы увидеть, как она посчитана",
    ),
    (
        "Draw with the trained model and teach it your digit",
        "Рисуйте для обученной модели и научите её своей цифре",
    ),
    ("Start the lesson from the beginning?", "Начать урок с начала?"),
    (
        "The lesson starts from the question's network, untrained: the training done so far and the network in use are left behind. Save the session first to come back to them.",
        "Урок начинается с сети из вопроса, необученной: сделанное обучение и выбранная сеть останутся позади. Сначала сохраните сеанс, чтобы к ним вернуться.",
    ),
    ("Start the lesson", "Начать урок"),
    ("Save the session first…", "Сначала сохранить сеанс…"),
    ("Cancel", "Отмена"),
    ("{layer} {k}x{k}, 1→1 channel", "{layer} {k}x{k}, 1→1 канал"),
    (
        "{layer} {k}x{k}, {cin}→{cout} channels (the first 4x4 shown)",
        "{layer} {k}x{k}, {cin}→{cout} каналов (показаны первые 4x4)",
    ),
    ("true digit ↓ · the network's answer →", "верная цифра ↓ · ответ сети →"),
    ("colour: how many (log scale)", "цвет: сколько (логарифмическая шкала)"),
    ("Show all", "Показать все"),
    ("{count} {digit}s answered right", "{digit}: верных ответов — {count}"),
    (
        "{count} {label}s answered {answer}: click to see them",
        "{label}, принятые за {answer}: {count} — щёлкните, чтобы увидеть их",
    ),
    ("only {label} → {answer}", "только {label} → {answer}"),
    // The classroom layout (a projector, the lesson).
    (
        "Next step (PgDn; on a covered step PgDn reveals it first)",
        "Следующий шаг (PgDn; на закрытом шаге PgDn сначала открывает ответ)",
    ),
    ("Previous step (PgUp)", "Предыдущий шаг (PgUp)"),
    (
        "Speed, learning rate, freezing; network, optimizer, batch size, seed (apply on Reset); the sample; the language",
        "Скорость, шаг обучения, заморозка; сеть, оптимизатор, размер батча, зерно (применяются при сбросе); пример; язык",
    ),
    (
        "How was this number computed? (the explanation)",
        "Как получено это число? (объяснение)",
    ),
    (
        "The tabs: the layer views, drawing, data, the experiment, mistakes, the architecture",
        "Вкладки: слои, рисование, данные, эксперимент, ошибки, архитектура",
    ),
    (
        "Trained with the app's settings: {optimizer}, η = {lr} (warmed up over the first quarter of the run, then decayed), batch {batch}. The README's table uses the command line's defaults (Adam, η = 0.005), so its percentages differ a little; the gap between the two copies is the point. The same runs on the command line:",
        "Обучение с настройками приложения: {optimizer}, η = {lr} (разгон в первой четверти прогона, затем спад), пакет {batch}. Таблица в README сделана с настройками командной строки по умолчанию (Adam, η = 0,005), поэтому её проценты немного другие; важен разрыв между двумя копиями. Те же прогоны из командной строки:",
    ),
    ("The same digit through both networks", "Одна и та же цифра в обеих сетях"),
    ("Test digit:", "Цифра из теста:"),
    ("label {label}", "метка {label}"),
    ("the digit", "цифра"),
    ("{run} {layer} output [{c}]", "{run}: выход {layer} [{c}]"),
    (
        "Batch norm:",
        "Батч-нормализация:",
    ),
    (
        "Each conv's output goes straight to its activation",
        "Выход каждой свёртки идёт прямо в её активацию",
    ),
    (
        "after each conv",
        "после каждой свёртки",
    ),
    (
        "Each channel of each conv's output normalised by the batch's mean and variance, then scaled by γ and shifted by β",
        "Каждый канал выхода каждой свёртки нормируется средним и дисперсией батча, затем умножается на γ и сдвигается на β",
    ),
    (
        "bn (lenet with batch norm after each conv)",
        "bn (lenet с батч-нормализацией после каждой свёртки)",
    ),
    (
        "updown (a stride-2 conv down, a transposed conv back up)",
        "updown (свёртка с шагом 2 вниз, транспонированная свёртка обратно вверх)",
    ),
];
