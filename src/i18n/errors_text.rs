//! Translations for what files and networks can get wrong: the typed errors
//! of the engine, the data and the file modules (see `mod.rs`).

pub const TEXT: &[(&str, &str)] = &[
    // Opening files in the app.
    (
        "No file dialog is available here: start with --session FILE.",
        "Окно выбора файла здесь недоступно: запустите программу с --session ФАЙЛ.",
    ),
    (
        "The file operation failed unexpectedly ({error}); nothing was changed.",
        "Операция с файлом неожиданно не удалась ({error}); ничего не изменилось.",
    ),
    (
        "Not started: {error}. Training continues as it was.",
        "Не запущено: {error}. Обучение продолжается как было.",
    ),
    (
        "Could not open {error}. Nothing was changed: what was loaded stays.",
        "Не удалось открыть {error}. Ничего не изменилось: загруженное остаётся.",
    ),
    (
        "The picture {source} is on the drawing pad, as the network sees it (28x28, centred).",
        "Картинка {source} на панели рисования — такой её видит сеть (28x28, по центру).",
    ),
    // Networks (engine).
    ("the network has no layers", "в сети нет слоёв"),
    (
        "the network has {count} layers; at most {limit} are allowed",
        "в сети {count} слоёв; допускается не больше {limit}",
    ),
    (
        "layer name {name} is not allowed: a name is 1 to {limit} characters, without control characters",
        "имя слоя {name} недопустимо: имя — от 1 до {limit} символов, без управляющих символов",
    ),
    (
        "two layers are called {name}: layer names must be unique",
        "два слоя называются {name}: имена слоёв должны быть разными",
    ),
    (
        "unknown preset {name} (known: seed, lenet, strided, bn, updown)",
        "неизвестная сеть {name} (есть: seed, lenet, strided, bn, updown)",
    ),
    ("not JSON: {detail}", "это не JSON: {detail}"),
    ("no \"layers\" array", "нет массива \"layers\""),
    ("bad layer list: {detail}", "неверный список слоёв: {detail}"),
    (
        "layer {layer}: stride {stride} is not supported (1 to {max})",
        "слой {layer}: шаг {stride} не поддерживается (от 1 до {max})",
    ),
    (
        "layer {layer}: dilation {dilation} is not supported (1 to {max})",
        "слой {layer}: разрежение {dilation} не поддерживается (от 1 до {max})",
    ),
    (
        "layer {layer}: output padding {output_padding} must be less than the stride {stride}",
        "слой {layer}: дополнение выхода {output_padding} должно быть меньше шага {stride}",
    ),
    (
        "layer {layer}: eps {eps} must be a number above 0 and at most 1",
        "слой {layer}: eps {eps} должно быть числом больше 0 и не больше 1",
    ),
    (
        "layer {layer}: kernel, channel and output counts must be at least 1",
        "слой {layer}: размер ядра, число каналов и выходов должны быть не меньше 1",
    ),
    (
        "layer {layer}: kernel {kernel} is larger than the limit of {limit}",
        "слой {layer}: ядро {kernel} больше предела {limit}",
    ),
    (
        "layer {layer}: padding {padding} is larger than the limit of {limit}",
        "слой {layer}: дополнение {padding} больше предела {limit}",
    ),
    (
        "layer {layer}: a pooling window of {size} is larger than the limit of {limit}",
        "слой {layer}: окно пулинга {size} больше предела {limit}",
    ),
    (
        "layer {layer} needs maps [channels, height, width] as input, but receives {found}",
        "слою {layer} нужны карты [каналы, высота, ширина], а он получает {found}",
    ),
    (
        "layer {layer} needs a flat input (add a flatten layer before it), but receives {found}",
        "слою {layer} нужен плоский вход (добавьте перед ним слой flatten), а он получает {found}",
    ),
    (
        "layer {layer}: expects {expected} input channels but receives {found}",
        "слой {layer}: ожидает {expected} входных каналов, а получает {found}",
    ),
    (
        "layer {layer}: expects {expected} inputs but receives {found}",
        "слой {layer}: ожидает {expected} входов, а получает {found}",
    ),
    (
        "layer {layer}: a {kernel}x{kernel} kernel does not fit a {height}x{width} input with padding {padding}",
        "слой {layer}: ядро {kernel}x{kernel} не помещается во вход {height}x{width} с дополнением {padding}",
    ),
    (
        "layer {layer}: a {size}x{size} pool does not fit a {height}x{width} input",
        "слой {layer}: пулинг {size}x{size} не помещается во вход {height}x{width}",
    ),
    (
        "the network has more than {limit} parameters (the limit)",
        "в сети больше {limit} параметров (это предел)",
    ),
    (
        "the network's layers output more than {limit} values for one sample (the limit)",
        "слои сети выдают больше {limit} значений на один пример (это предел)",
    ),
    (
        "the network must end in 10 outputs (one per digit), it ends in {found}",
        "сеть должна заканчиваться 10 выходами (по одному на цифру), а заканчивается {found}",
    ),
    ("the batch size must be at least 1", "размер батча должен быть не меньше 1"),
    (
        "a batch of {batch} is far beyond the memory limit of {limit} for this network; the largest batch that fits is {largest}",
        "батч из {batch} примеров далеко за пределом памяти {limit} для этой сети; наибольший подходящий батч — {largest}",
    ),
    (
        "a batch of {batch} needs about {need} of memory for this network, more than the limit of {limit}; the largest batch that fits is {largest}",
        "батчу из {batch} примеров для этой сети нужно около {need} памяти, больше предела {limit}; наибольший подходящий батч — {largest}",
    ),
    ("{count} million", "{count} млн"),
    ("{size} GB", "{size} ГБ"),
    ("{size} MB", "{size} МБ"),
    // IDX files.
    ("labels", "метки"),
    ("images", "изображения"),
    ("unknown", "неизвестно"),
    ("the file is empty", "файл пуст"),
    (
        "truncated header: an idx{n} file ({kind}) starts with a {needed}-byte header, but the file holds only {found} bytes",
        "заголовок обрезан: файл idx{n} ({kind}) начинается с заголовка в {needed} байт, а в файле только {found} байт",
    ),
    (
        "truncated header: the file holds only {found} byte(s), not even the 4-byte magic number",
        "заголовок обрезан: в файле только {found} байт — нет даже 4-байтового магического числа",
    ),
    (
        "not an IDX file: magic number {found} (expected 0x00000801 or 0x00000803)",
        "это не файл IDX: магическое число {found} (ожидалось 0x00000801 или 0x00000803)",
    ),
    (
        "expected an idx{expected} file ({expected_kind}) but this is an idx{found} file ({found_kind})",
        "ожидался файл idx{expected} ({expected_kind}), а это файл idx{found} ({found_kind})",
    ),
    (
        "header says {dims}: a size of zero leaves nothing to read",
        "в заголовке {dims}: при нулевом размере читать нечего",
    ),
    (
        "header says {dims}, more than the {limit} bytes this program accepts",
        "в заголовке {dims} — больше {limit} байт, которые принимает программа",
    ),
    (
        "header says {dims} ({expected} bytes) but the file holds {found}",
        "в заголовке {dims} ({expected} байт), а в файле {found}",
    ),
    (
        "header says {dims} ({expected} bytes) but the file holds at least {found} bytes of data: trailing bytes after the data",
        "в заголовке {dims} ({expected} байт), а в файле не меньше {found} байт данных: лишние байты после данных",
    ),
    (
        "header says {dims} ({expected} bytes) but the file holds {found} bytes of data: trailing bytes after the data",
        "в заголовке {dims} ({expected} байт), а в файле {found} байт данных: лишние байты после данных",
    ),
    (
        "truncated gzip stream (the compressed file was cut short)",
        "поток gzip обрезан (сжатый файл оборван)",
    ),
    ("corrupt gzip stream: {detail}", "поток gzip повреждён: {detail}"),
    ("{n} labels", "{n} меток"),
    ("{n} images of {rows}x{cols}", "{n} изображений {rows}x{cols}"),
    // Reading and writing files.
    ("no such file", "нет такого файла"),
    ("permission denied", "нет доступа"),
    ("is a folder, expected a file", "это папка, а нужен файл"),
    (
        "is a pipe (FIFO), not a file: only regular files are read",
        "это канал (FIFO), а не файл: читаются только обычные файлы",
    ),
    (
        "is a device, not a file: only regular files are read",
        "это устройство, а не файл: читаются только обычные файлы",
    ),
    (
        "is a socket, not a file: only regular files are read",
        "это сокет, а не файл: читаются только обычные файлы",
    ),
    (
        "is not a regular file: only regular files are read",
        "это не обычный файл: читаются только обычные файлы",
    ),
    (
        "file is {size} or more; files over {limit} are refused",
        "файл размером {size} или больше; файлы больше {limit} не принимаются",
    ),
    ("cannot read: {cause}", "не удаётся прочитать: {cause}"),
    (
        "cannot write: {cause} (the file that was there is unchanged)",
        "не удаётся записать: {cause} (прежний файл не изменён)",
    ),
    ("the disk is full", "диск заполнен"),
    (
        "the file would pass the file-size limit",
        "файл превысил бы предельный размер файла",
    ),
    ("the disk is read-only", "диск только для чтения"),
    (
        "cannot write there: the folder {folder} does not exist",
        "туда нельзя записать: папки {folder} нет",
    ),
    (
        "is also read by this command: writing there would destroy it; choose another name",
        "эта команда его же и читает: запись туда его уничтожит; выберите другое имя",
    ),
    ("is not a folder", "это не папка"),
    ("no such folder", "нет такой папки"),
    (
        "no such preset (seed, lenet, strided) or file",
        "нет такой готовой сети (seed, lenet, strided) или файла",
    ),
    // Datasets.
    (
        "expected images with 3 dimensions [count, rows, cols], found {found} dimension(s)",
        "ожидались изображения с 3 измерениями [число, строки, столбцы], найдено измерений: {found}",
    ),
    (
        "expected labels with 1 dimension [count], found {found} dimension(s)",
        "ожидались метки с 1 измерением [число], найдено измерений: {found}",
    ),
    (
        "images are {rows}x{cols} pixels; the networks here read MNIST's 28x28",
        "изображения размером {rows}x{cols} пикселей; сети здесь читают 28x28, как в MNIST",
    ),
    (
        "{count} images of {rows}x{cols} do not match the {present} bytes present",
        "{count} изображений {rows}x{cols} не сходятся с {present} байтами в файле",
    ),
    (
        "{count} labels need {count} bytes but {present} are present",
        "{count} меткам нужно {count} байт, а в файле {present}",
    ),
    (
        "holds {labels} labels but {file} holds {images} images: the two files do not belong together",
        "здесь {labels} меток, а в {file} — {images} изображений: эти два файла не из одного набора",
    ),
    (
        "label #{index} is {value}: labels must be digits 0 to 9",
        "метка №{index} равна {value}: метки должны быть цифрами от 0 до 9",
    ),
    (
        "missing (also looked for {also})",
        "отсутствует (искали также {also})",
    ),
    (
        "missing, needed with {have} (also looked for {also})",
        "отсутствует, а нужен вместе с {have} (искали также {also})",
    ),
    ("no MNIST files in this folder", "в этой папке нет файлов MNIST"),
    ("not an MNIST file", "это не файл MNIST"),
    (
        "{what}: expected train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte or t10k-labels-idx1-ubyte (each raw or .gz)",
        "{what}: ожидались train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte или t10k-labels-idx1-ubyte (каждый как есть или .gz)",
    ),
    // Pictures.
    (
        "not a PNG or JPEG picture (unrecognised content)",
        "это не картинка PNG или JPEG (содержимое не распознано)",
    ),
    (
        "cannot decode the picture: {detail}",
        "не удаётся раскодировать картинку: {detail}",
    ),
    (
        "the picture is {width}x{height} pixels; pictures over {limit} million pixels are refused",
        "картинка {width}x{height} пикселей; картинки больше {limit} млн пикселей не принимаются",
    ),
    // Models, traces and sessions.
    (
        "not a safetensors file: it does not start with a safetensors header",
        "это не файл safetensors: в начале нет заголовка safetensors",
    ),
    (
        "not a safetensors file: its tensors do not match its header (cut short, extra bytes, or damaged)",
        "это не файл safetensors: его тензоры не сходятся с заголовком (файл обрезан, в нём лишние байты или он повреждён)",
    ),
    (
        "metadata format is {found}, expected {expected}",
        "в метаданных формат {found}, а ожидался {expected}",
    ),
    (
        "format version {found} is not supported (expected {expected})",
        "версия формата {found} не поддерживается (ожидалась {expected})",
    ),
    (
        "metadata has no \"{key}\" entry",
        "в метаданных нет записи \"{key}\"",
    ),
    (
        "metadata entry \"{key}\" is longer than the limit of {limit}",
        "запись метаданных \"{key}\" длиннее предела {limit}",
    ),
    (
        "the network it describes: {error}",
        "описанная в нём сеть: {error}",
    ),
    ("tensor {name} is missing", "нет тензора {name}"),
    (
        "tensor {name} is {found}, expected {expected}",
        "тензор {name} типа {found}, а ожидался {expected}",
    ),
    (
        "tensor {name} has shape {found}, expected {expected}",
        "у тензора {name} форма {found}, а ожидалась {expected}",
    ),
    (
        "tensor {name} holds NaN or infinite values",
        "в тензоре {name} есть NaN или бесконечные значения",
    ),
    (
        "tensor {name} holds negative values (it is a mean of squares)",
        "в тензоре {name} есть отрицательные значения (а это среднее квадратов)",
    ),
    ("a label is outside 0..=9", "метка вне диапазона 0..=9"),
    (
        "tensor {name} has {rows} rows, more than the limit of {limit}",
        "в тензоре {name} {rows} строк — больше предела {limit}",
    ),
    (
        "tensor {name} holds impossible values (negative or fractional counts, accuracies outside 0 to 1)",
        "в тензоре {name} невозможные значения (отрицательные или дробные счётчики, точность вне 0–1)",
    ),
    (
        "the session's settings: {detail}",
        "настройки сеанса: {detail}",
    ),
    (
        "the session's learning rate {lr} is not a positive number",
        "скорость обучения сеанса {lr} — не положительное число",
    ),
    (
        "the {optimizer} optimizer's state is incomplete",
        "состояние оптимизатора {optimizer} неполное",
    ),
    (
        "the session's position in the data is impossible: {field} = {value}",
        "положение сеанса в данных невозможно: {field} = {value}",
    ),
    (
        "the session's preset is not a name or a path (too long, or with control characters)",
        "сеть сеанса — не имя и не путь (слишком длинно или с управляющими символами)",
    ),
    (
        "Its record of predictions could not be read ({error}): it is kept aside as it was and saved with the session.",
        "Записи предсказаний в нём прочитать не удалось ({error}): они отложены как есть и сохраняются вместе с сеансом.",
    ),
    (
        "the step's {name} holds NaN or infinite values: the network has diverged",
        "{name} этого шага содержит NaN или бесконечности: сеть разошлась",
    ),
    (
        "holds {path}, which this command reads or writes: the exercise replaces the folder whole; choose another folder",
        "содержит {path}, который эта команда читает или пишет: задание заменяет папку целиком; выберите другую папку",
    ),
    (
        "is a folder that holds {entry}, which is not part of an exercise: an exercise replaces its folder whole, so it is written only into a new, empty or earlier exercise's folder",
        "это папка, в которой есть {entry}, а это не часть задания: задание заменяет свою папку целиком, поэтому пишется только в новую, пустую или в папку прежнего задания",
    ),
    (
        "{name} holds {n} values, more than any tensor of this step could hold ({most})",
        "в {name} {n} значений — больше, чем может быть в любом тензоре этого шага ({most})",
    ),
    ("changed while it was being read", "изменился, пока его читали"),
    (
        "row {row}: more values than any tensor of this step could hold ({most})",
        "строка {row}: значений больше, чем может быть в любом тензоре этого шага ({most})",
    ),
    (
        "row {row} is longer than {n} characters",
        "строка {row} длиннее {n} символов",
    ),
    ("the step has no {what} yet", "в шаге ещё нет {what}"),
];
