//! Translations for the window's frame: tabs, status messages, sessions,
//! settings (see `mod.rs`).

pub const TEXT: &[(&str, &str)] = &[
    ("Backprop", "Обратное распространение"),
    (
        "The layer views: forward values, deltas, filter gradients, the update",
        "Слои: значения прямого прохода, дельты, градиенты фильтров, обновление",
    ),
    ("Draw a digit", "Нарисовать цифру"),
    (
        "Draw a digit and watch the network classify it",
        "Нарисуйте цифру и посмотрите, как сеть её распознаёт",
    ),
    ("Data", "Данные"),
    (
        "The dataset: counts and samples; open another one",
        "Набор данных: сколько примеров, как они выглядят; открыть другой",
    ),
    ("Frozen vs learning filters", "Замороженные и обучаемые фильтры"),
    (
        "The question's experiment: the same network trained with its filters frozen and learning",
        "Эксперимент из вопроса: одна и та же сеть, обученная с замороженными и с обучаемыми фильтрами",
    ),
    ("Mistakes", "Ошибки"),
    (
        "The confusion matrix and the misclassified test digits",
        "Матрица ошибок и неверно распознанные цифры тестовой выборки",
    ),
    ("Architecture", "Архитектура"),
    (
        "Change the number of filters, the kernel, pooling, activation and FC width",
        "Число фильтров, размер ядра, пулинг, активация и ширина полносвязного слоя",
    ),
    (
        "Now using the network {source}; Reset returns to it.",
        "Теперь используется сеть {source}; «Сброс» возвращает к ней.",
    ),
    (
        "Loaded {source}: {train} training and {test} test images.",
        "Загружено {source}: обучающих изображений — {train}, тестовых — {test}.",
    ),
    (
        "Loaded the pretrained model that ships with the program (99.4 % on MNIST's test set).",
        "Загружена обученная модель, поставляемая с программой (99,4 % на тестовой выборке MNIST).",
    ),
    (
        "Could not load the dataset: {error}. The data already loaded stays.",
        "Не удалось загрузить набор данных: {error}. Уже загруженные данные остаются.",
    ),
    (
        "jumped to {loss} (an untrained network starts near 2.3)",
        "подскочила до {loss} (у необученной сети она около 2,3)",
    ),
    (
        "became {loss}: the numbers overflowed",
        "стала {loss}: числа переполнились",
    ),
    (
        "Training diverged: the loss {what} at batch {batch}. The steps are too large for this network: try a smaller learning rate (now {lr}), then press Reset.",
        "Обучение разошлось: потеря {what} на батче {batch}. Шаги слишком велики для этой сети: уменьшите скорость обучения (сейчас {lr}) и нажмите «Сброс».",
    ),
    (
        "The training thread hit an internal error ({error}); press Reset to start again.",
        "Во время обучения произошла внутренняя ошибка ({error}); нажмите «Сброс», чтобы начать заново.",
    ),
    (
        "Continuing the session {source}: batch {batch}, epoch {epoch}.",
        "Продолжаем сеанс {source}: батч {batch}, эпоха {epoch}.",
    ),

    ("Save session…", "Сохранить сеанс…"),
    (
        "The model, the optimizer's state, the step and the plots: continue this lesson later exactly here",
        "Модель, состояние оптимизатора, шаг и графики: продолжить это занятие позже ровно с этого места",
    ),
    ("Save the session", "Сохранить сеанс"),
    (
        "the training thread did not answer",
        "поток обучения не ответил",
    ),
    ("Open session…", "Открыть сеанс…"),
    (
        "Continue a saved session where it stopped",
        "Продолжить сохранённый сеанс с того места, где он остановился",
    ),
    ("Open a session", "Открыть сеанс"),
    (
        "No file dialog is available here (no desktop portal or zenity).",
        "Диалог выбора файла здесь недоступен (нет desktop portal или zenity).",
    ),
    ("Explanation panel", "Панель объяснений"),
    (
        "The panel on the right that explains a clicked cell",
        "Панель справа, объясняющая выбранную клетку",
    ),
    ("Language", "Язык"),
    ("Guided lesson", "Урок"),
    (
        "Leave the lesson and explore freely",
        "Выйти из урока и исследовать самостоятельно",
    ),
    ("Continue from step {step}", "Продолжить с шага {step}"),
    (
        "Start the lesson from the beginning",
        "Начать урок с начала",
    ),
    (
        "Resets to the question's network and walks one batch forward and the error back into the filters",
        "Сбрасывает сеть к сети из вопроса и проводит один батч вперёд, а ошибку — назад, до фильтров",
    ),
    (
        "backprop-viz: how the error reaches the filter",
        "backprop-viz: как ошибка доходит до фильтра",
    ),
    (
        "Play or pause the view's animation (conv sums, pooling, flatten)",
        "Пуск или пауза анимации вида (суммы свёртки, пулинг, flatten)",
    ),
    ("Animation: one frame back / on", "Анимация: кадр назад / вперёд"),
    // The browser's build.
    (
        "An exercise is a folder of files: export it from the desktop app, or with backprop-viz trace --exercise DIR.",
        "Упражнение — это папка файлов: экспортируйте его из настольной версии или командой backprop-viz trace --exercise DIR.",
    ),
    ("Downloaded {name}", "Скачан файл {name}"),
    ("MNIST, from this site", "MNIST с этого сайта"),
    (
        "MNIST's training set has arrived: training uses all 60,000 images.",
        "Обучающая выборка MNIST загружена: обучение идёт на всех 60 000 изображений.",
    ),
    (
        "MNIST's training set did not arrive ({error}): the app goes on with the test set.",
        "Обучающая выборка MNIST не загрузилась ({error}): приложение продолжает работать на тестовой.",
    ),
    (
        "MNIST's test set (the training set is arriving)",
        "тестовая выборка MNIST (обучающая ещё загружается)",
    ),
    (
        "Loading MNIST's training set ({progress}); then the shared moment opens.",
        "Загружается обучающая выборка MNIST ({progress}); затем откроется момент из ссылки.",
    ),
    (
        "Loading MNIST's training set ({progress}); meanwhile the app steps through the test set.",
        "Загружается обучающая выборка MNIST ({progress}); пока что приложение шагает по тестовой.",
    ),
];
